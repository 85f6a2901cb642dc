package io.dockgate.engine.build;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.engine.EngineException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The instructions that change an image's configuration only (ENV, LABEL, USER, WORKDIR, EXPOSE, CMD,
 * ENTRYPOINT, VOLUME, STOPSIGNAL, SHELL, HEALTHCHECK, ONBUILD, MAINTAINER), as the classic builder applies
 * them to the run configuration; also what {@code docker commit --change} and {@code import --change} take.
 */
public final class Instructions {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

    private Instructions() {
    }

    /** The shell of shell-form commands: the configuration's SHELL, else /bin/sh -c. */
    static List<String> shell(ObjectNode config) {
        JsonNode shell = config.get("Shell");
        List<String> out = new ArrayList<>();
        if (shell != null && shell.isArray() && !shell.isEmpty()) {
            shell.forEach(s -> out.add(s.asText()));
        } else {
            out.add("/bin/sh");
            out.add("-c");
        }
        return out;
    }

    /**
     * Applies one instruction to the configuration; {@code cmdSet}: whether this stage set CMD itself (an
     * ENTRYPOINT then keeps it; otherwise it clears the inherited one, as dockerd does).
     */
    public static void apply(ObjectNode config, Dockerfile.Instruction in, ShellLex lex, char escape, boolean cmdSet) {
        String k = in.keyword();
        if (!k.equals("HEALTHCHECK")) {
            in.allowFlags();
        }
        switch (k) {
            case "ENV" -> {
                ArrayNode env = Builder.arrayField(config, "Env");
                for (Map.Entry<String, String> kv : Dockerfile.keyValues(in, escape, lex)) {
                    for (int i = env.size() - 1; i >= 0; i--) {
                        String e = env.get(i).asText();
                        if (e.equals(kv.getKey()) || e.startsWith(kv.getKey() + "=")) {
                            env.remove(i);
                        }
                    }
                    env.add(kv.getKey() + "=" + kv.getValue());
                }
            }
            case "LABEL" -> {
                ObjectNode labels = Builder.objectField(config, "Labels");
                for (Map.Entry<String, String> kv : Dockerfile.keyValues(in, escape, lex)) {
                    labels.put(kv.getKey(), kv.getValue());
                }
            }
            case "MAINTAINER" -> {
                // the image's author: kept in the configuration's history by the caller (nothing in the run configuration)
                requireArgs(in);
            }
            case "USER" -> config.put("User", single(in, lex));
            case "WORKDIR" -> {
                String dir = single(in, lex);
                String current = config.path("WorkingDir").asText("");
                String joined = dir.startsWith("/") ? dir : (current.isEmpty() ? "/" : current) + "/" + dir;
                config.put("WorkingDir", java.nio.file.Path.of(joined).normalize().toString());
            }
            case "STOPSIGNAL" -> {
                String sig = single(in, lex);
                io.dockgate.engine.container.Signals.parse(sig);
                config.put("StopSignal", sig);
            }
            case "EXPOSE" -> {
                ObjectNode ports = Builder.objectField(config, "ExposedPorts");
                for (String p : lex.words(in.args())) {
                    for (String port : ports(p)) {
                        ports.putObject(port);
                    }
                }
                if (ports.isEmpty()) {
                    throw EngineException.invalid("EXPOSE requires at least one argument");
                }
            }
            case "CMD" -> config.set("Cmd", command(config, in));
            case "ENTRYPOINT" -> {
                config.set("Entrypoint", command(config, in));
                if (!cmdSet) {
                    config.putNull("Cmd"); // an inherited CMD does not go with a new ENTRYPOINT
                }
            }
            case "SHELL" -> {
                if (!in.execForm() || in.json().isEmpty()) {
                    throw EngineException.invalid("SHELL requires the arguments to be in JSON form");
                }
                ArrayNode a = config.putArray("Shell");
                in.json().forEach(a::add);
            }
            case "VOLUME" -> {
                ObjectNode volumes = Builder.objectField(config, "Volumes");
                List<String> list = in.execForm() ? in.json().stream().map(lex::word).toList() : lex.words(in.args());
                if (list.isEmpty()) {
                    throw EngineException.invalid("VOLUME requires at least one argument");
                }
                for (String v : list) {
                    if (v.isBlank()) {
                        throw EngineException.invalid("VOLUME specified can not be an empty string");
                    }
                    volumes.putObject(v);
                }
            }
            case "HEALTHCHECK" -> config.set("Healthcheck", healthcheck(config, in));
            case "ONBUILD" -> {
                String trigger = in.args().strip();
                int sp = 0;
                while (sp < trigger.length() && !Character.isWhitespace(trigger.charAt(sp))) {
                    sp++;
                }
                String keyword = trigger.substring(0, sp).toUpperCase(Locale.ROOT);
                if (keyword.equals("ONBUILD")) {
                    throw EngineException.invalid("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
                }
                if (keyword.equals("FROM") || keyword.equals("MAINTAINER")) {
                    throw EngineException.invalid(keyword + " isn't allowed as an ONBUILD trigger");
                }
                Dockerfile.instruction(trigger, in.line(), escape); // a trigger must parse
                Builder.arrayField(config, "OnBuild").add(keyword + trigger.substring(sp));
            }
            default -> throw EngineException.invalid(k + " is not a valid change command");
        }
    }

    /** The text of the history entry for a configuration step (after "#(nop) "). */
    static String describe(Dockerfile.Instruction in, ShellLex lex) {
        return switch (in.keyword()) {
            case "CMD", "ENTRYPOINT", "SHELL" -> in.keyword() + " " + goList(in.execForm() ? in.json() : List.of("/bin/sh", "-c", in.args()));
            case "ENV", "LABEL", "USER", "EXPOSE", "STOPSIGNAL", "VOLUME" -> in.keyword() + " " + in.args();
            default -> in.keyword() + " " + in.args();
        };
    }

    /** A list as Go's %q prints it: ["a" "b"]. */
    private static String goList(List<String> items) {
        StringBuilder b = new StringBuilder("[");
        for (String i : items) {
            if (b.length() > 1) {
                b.append(' ');
            }
            b.append('"').append(i.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
        }
        return b.append(']').toString();
    }

    private static void requireArgs(Dockerfile.Instruction in) {
        if (in.args().isBlank()) {
            throw EngineException.invalid(in.keyword() + " requires at least one argument");
        }
    }

    private static String single(Dockerfile.Instruction in, ShellLex lex) {
        requireArgs(in);
        String v = lex.word(in.args().strip());
        if (v.isEmpty()) {
            throw EngineException.invalid(in.keyword() + " requires exactly one argument");
        }
        return v;
    }

    private static ArrayNode command(ObjectNode config, Dockerfile.Instruction in) {
        if (!in.execForm()) {
            requireArgs(in);
        }
        ArrayNode a = JSON.createArrayNode();
        if (in.execForm()) {
            in.json().forEach(a::add);
        } else {
            shell(config).forEach(a::add);
            a.add(in.args());
        }
        return a;
    }

    /** "80", "80/udp", "8000-8002/tcp" as the ports ExposedPorts keys name. */
    static List<String> ports(String spec) {
        Matcher m = Pattern.compile("(\\d{1,5})(?:-(\\d{1,5}))?(?:/(tcp|udp|sctp))?").matcher(spec.toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw EngineException.invalid("invalid containerPort: " + spec);
        }
        int from = Integer.parseInt(m.group(1));
        int to = m.group(2) == null ? from : Integer.parseInt(m.group(2));
        String proto = m.group(3) == null ? "tcp" : m.group(3);
        if (from < 1 || to > 65535 || to < from) {
            throw EngineException.invalid("invalid containerPort: " + spec);
        }
        List<String> out = new ArrayList<>();
        for (int p = from; p <= to; p++) {
            out.add(p + "/" + proto);
        }
        return out;
    }

    private static ObjectNode healthcheck(ObjectNode config, Dockerfile.Instruction in) {
        in.allowFlags("interval", "timeout", "start-period", "start-interval", "retries");
        String args = in.args().strip();
        int sp = 0;
        while (sp < args.length() && !Character.isWhitespace(args.charAt(sp))) {
            sp++;
        }
        String type = args.substring(0, sp).toUpperCase(Locale.ROOT);
        String rest = args.substring(sp).strip();
        ObjectNode h = JSON.createObjectNode();
        ArrayNode test = h.putArray("Test");
        if (type.equals("NONE")) {
            if (!rest.isEmpty() || !in.flags().isEmpty()) {
                throw EngineException.invalid("HEALTHCHECK NONE takes no arguments");
            }
            test.add("NONE");
            return h;
        }
        if (!type.equals("CMD")) {
            throw EngineException.invalid("Unknown type \"" + type + "\" in HEALTHCHECK (try CMD)");
        }
        List<String> json = rest.startsWith("[") ? Dockerfile.jsonArray(rest) : null;
        if (json != null) {
            test.add("CMD");
            json.forEach(test::add);
        } else {
            if (rest.isEmpty()) {
                throw EngineException.invalid("Missing command after HEALTHCHECK CMD");
            }
            test.add("CMD-SHELL").add(rest);
        }
        putDuration(h, "Interval", in.flags().get("interval"));
        putDuration(h, "Timeout", in.flags().get("timeout"));
        putDuration(h, "StartPeriod", in.flags().get("start-period"));
        putDuration(h, "StartInterval", in.flags().get("start-interval"));
        if (in.flags().containsKey("retries")) {
            int retries;
            try {
                retries = Integer.parseInt(in.flags().get("retries"));
            } catch (NumberFormatException e) {
                throw EngineException.invalid("invalid --retries: " + in.flags().get("retries"));
            }
            if (retries < 0) {
                throw EngineException.invalid("--retries cannot be negative (" + retries + ")");
            }
            if (retries > 0) {
                h.put("Retries", retries);
            }
        }
        new io.dockgate.engine.container.Healthcheck(List.of("CMD", "x"), h.path("Interval").asLong(), h.path("Timeout").asLong(),
                h.path("StartPeriod").asLong(), h.path("StartInterval").asLong(), h.path("Retries").asInt()); // dockerd's bounds
        return h;
    }

    private static void putDuration(ObjectNode h, String key, String value) {
        if (value == null) {
            return;
        }
        long nanos = duration(value);
        if (nanos != 0) {
            h.put(key, nanos);
        }
    }

    /** A Go duration ("30s", "1m30s", "500ms", "1h") in nanoseconds. */
    static long duration(String text) {
        if (text.equals("0")) {
            return 0;
        }
        Matcher m = DURATION.matcher(text);
        long total = 0;
        int at = 0;
        while (m.find()) {
            if (m.start() != at) {
                throw EngineException.invalid("time: invalid duration \"" + text + "\"");
            }
            double v = Double.parseDouble(m.group(1));
            long unit = switch (m.group(2)) {
                case "ns" -> 1L;
                case "us", "µs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                default -> 3_600_000_000_000L;
            };
            total += (long) (v * unit);
            at = m.end();
        }
        if (at != text.length() || text.isEmpty()) {
            throw EngineException.invalid("time: invalid duration \"" + text + "\"");
        }
        return total;
    }
}
