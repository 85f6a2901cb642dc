package io.dockgate.engine.container;

import io.dockgate.engine.EngineException;
import java.util.Locale;
import java.util.Map;

/** Signal names and numbers as Docker accepts them: "TERM", "SIGTERM", "15". */
public final class Signals {
    private static final Map<String, Integer> NUMBERS = Map.ofEntries(
            Map.entry("HUP", 1), Map.entry("INT", 2), Map.entry("QUIT", 3), Map.entry("ILL", 4), Map.entry("TRAP", 5),
            Map.entry("ABRT", 6), Map.entry("IOT", 6), Map.entry("BUS", 7), Map.entry("FPE", 8), Map.entry("KILL", 9),
            Map.entry("USR1", 10), Map.entry("SEGV", 11), Map.entry("USR2", 12), Map.entry("PIPE", 13), Map.entry("ALRM", 14),
            Map.entry("TERM", 15), Map.entry("STKFLT", 16), Map.entry("CHLD", 17), Map.entry("CONT", 18), Map.entry("STOP", 19),
            Map.entry("TSTP", 20), Map.entry("TTIN", 21), Map.entry("TTOU", 22), Map.entry("URG", 23), Map.entry("XCPU", 24),
            Map.entry("XFSZ", 25), Map.entry("VTALRM", 26), Map.entry("PROF", 27), Map.entry("WINCH", 28), Map.entry("IO", 29),
            Map.entry("POLL", 29), Map.entry("PWR", 30), Map.entry("SYS", 31));

    private Signals() {
    }

    public static int parse(String text) {
        if (text == null || text.isBlank()) {
            throw EngineException.invalid("Invalid signal: " + text);
        }
        String s = text.trim().toUpperCase(Locale.ROOT);
        if (s.chars().allMatch(Character::isDigit)) {
            int n = Integer.parseInt(s.length() > 3 ? "999" : s);
            if (n < 1 || n > 64) {
                throw EngineException.invalid("Invalid signal: " + text);
            }
            return n;
        }
        if (s.startsWith("SIG")) {
            s = s.substring(3);
        }
        if (s.startsWith("RTMIN") || s.startsWith("RTMAX")) {
            int base = s.startsWith("RTMIN") ? 34 : 64;
            String rest = s.substring(5);
            int offset = rest.isEmpty() ? 0 : Integer.parseInt(rest.replace("+", ""));
            return s.startsWith("RTMIN") ? base + offset : base + offset;
        }
        Integer n = NUMBERS.get(s);
        if (n == null) {
            throw EngineException.invalid("Invalid signal: " + text);
        }
        return n;
    }
}
