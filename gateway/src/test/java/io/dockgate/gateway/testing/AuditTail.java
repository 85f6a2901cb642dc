package io.dockgate.gateway.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a daemon's audit log in tests: waits for records with given fragments. */
public final class AuditTail {
    private static final Pattern ID = Pattern.compile("\"id\":\"([^\"]+)\"");
    private final Path file;

    public AuditTail(Path file) {
        this.file = file;
    }

    public Path file() {
        return file;
    }

    public List<String> lines() throws IOException {
        return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
    }

    /** Records containing every fragment. */
    public long count(String... fragments) throws IOException {
        return lines().stream().filter(l -> containsAll(l, fragments)).count();
    }

    /** The last record containing every fragment, waiting up to 10 s for it. */
    public String await(String... fragments) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            List<String> lines = lines();
            for (int i = lines.size() - 1; i >= 0; i--) {
                if (containsAll(lines.get(i), fragments)) {
                    return lines.get(i);
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no audit record with " + List.of(fragments) + " in " + file + ":\n"
                        + String.join("\n", lines.subList(Math.max(0, lines.size() - 10), lines.size())));
            }
            Thread.sleep(50);
        }
    }

    /** The outcome record of a decision record's request. */
    public String outcome(String decision) throws Exception {
        Matcher m = ID.matcher(decision);
        if (!m.find()) {
            throw new AssertionError("no request id in " + decision);
        }
        return await("\"type\":\"outcome\"", "\"id\":\"" + m.group(1) + "\"");
    }

    private static boolean containsAll(String line, String... fragments) {
        for (String f : fragments) {
            if (!line.contains(f)) {
                return false;
            }
        }
        return true;
    }
}
