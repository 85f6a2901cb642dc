package io.dockgate.engine.container;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.EngineException;
import java.util.ArrayList;
import java.util.List;

/**
 * Docker's health check (Config.Healthcheck, an image's HEALTHCHECK): the test ({@code ["CMD", args...]},
 * {@code ["CMD-SHELL", command]}, {@code ["NONE"]}, or empty to inherit the image's) and its timings in
 * nanoseconds (0 inherits the image's, else Docker's default), the retries (0 likewise).
 */
public record Healthcheck(List<String> test, long interval, long timeout, long startPeriod, long startInterval, int retries) {
    public static final long DEFAULT_INTERVAL = 30_000_000_000L;
    public static final long DEFAULT_TIMEOUT = 30_000_000_000L;
    public static final long DEFAULT_START_INTERVAL = 5_000_000_000L;
    public static final int DEFAULT_RETRIES = 3;
    private static final long MINIMUM = 1_000_000L;

    /** dockerd's checks: each duration 0 or at least 1 ms, retries not negative, a known test form. */
    public Healthcheck {
        test = test == null ? List.of() : List.copyOf(test);
        check("Interval", interval);
        check("Timeout", timeout);
        check("StartPeriod", startPeriod);
        check("StartInterval", startInterval);
        if (retries < 0) {
            throw EngineException.invalid("Retries in Healthcheck cannot be negative");
        }
        if (!test.isEmpty() && !List.of("NONE", "CMD", "CMD-SHELL").contains(test.get(0))) {
            throw EngineException.invalid("unknown Healthcheck type " + test.get(0) + " (CMD, CMD-SHELL or NONE)");
        }
        if (!test.isEmpty() && !test.get(0).equals("NONE") && test.size() < 2) {
            throw EngineException.invalid("Healthcheck " + test.get(0) + " needs a command");
        }
    }

    private static void check(String name, long value) {
        if (value != 0 && value < MINIMUM) {
            throw EngineException.invalid(name + " in Healthcheck cannot be less than 1ms");
        }
    }

    /** Whether probes run (a test other than NONE). */
    public boolean enabled() {
        return !test.isEmpty() && !test.get(0).equals("NONE");
    }

    /**
     * The container's check over the image's, as dockerd merges them: no check of the container's means
     * the image's; an empty test and each zero setting take the image's.
     */
    public static Healthcheck merge(Healthcheck container, Healthcheck image) {
        if (container == null) {
            return image;
        }
        if (image == null) {
            return container;
        }
        return new Healthcheck(container.test.isEmpty() ? image.test : container.test,
                container.interval != 0 ? container.interval : image.interval,
                container.timeout != 0 ? container.timeout : image.timeout,
                container.startPeriod != 0 ? container.startPeriod : image.startPeriod,
                container.startInterval != 0 ? container.startInterval : image.startInterval,
                container.retries != 0 ? container.retries : image.retries);
    }

    /** An image configuration's (or a request's) Healthcheck object, null when absent. */
    public static Healthcheck fromJson(JsonNode node) {
        if (node == null || node.isNull() || !node.isObject()) {
            return null;
        }
        List<String> test = new ArrayList<>();
        JsonNode t = field(node, "Test");
        if (t != null && t.isArray()) {
            t.forEach(x -> test.add(x.asText()));
        }
        return new Healthcheck(test, number(node, "Interval"), number(node, "Timeout"), number(node, "StartPeriod"),
                number(node, "StartInterval"), (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, number(node, "Retries"))));
    }

    /** A field of a Docker JSON object by name, in any case (as Docker's decoder reads keys). */
    static JsonNode field(JsonNode node, String name) {
        JsonNode v = node.get(name);
        if (v != null) {
            return v;
        }
        var it = node.fieldNames();
        while (it.hasNext()) {
            String f = it.next();
            if (f.equalsIgnoreCase(name)) {
                return node.get(f);
            }
        }
        return null;
    }

    private static long number(JsonNode node, String name) {
        JsonNode v = field(node, name);
        return v == null || v.isNull() ? 0 : v.asLong();
    }

    public long intervalOrDefault() {
        return interval == 0 ? DEFAULT_INTERVAL : interval;
    }

    public long timeoutOrDefault() {
        return timeout == 0 ? DEFAULT_TIMEOUT : timeout;
    }

    public long startIntervalOrDefault() {
        return startInterval == 0 ? DEFAULT_START_INTERVAL : startInterval;
    }

    public int retriesOrDefault() {
        return retries == 0 ? DEFAULT_RETRIES : retries;
    }
}
