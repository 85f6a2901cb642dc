package io.dockgate.config;

import java.util.Locale;

/** Docker's byte sizes: a number with an optional unit b, k, m, g, t (powers of 1024), as in {@code -m 512m}. */
public final class Sizes {
    private Sizes() {
    }

    public static long parseBytes(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.endsWith("ib")) {
            s = s.substring(0, s.length() - 2);
        } else if (s.endsWith("b") && s.length() > 1 && !Character.isDigit(s.charAt(s.length() - 2))) {
            s = s.substring(0, s.length() - 1);
        }
        long unit = 1;
        if (!s.isEmpty()) {
            char last = s.charAt(s.length() - 1);
            int shift = switch (last) {
                case 'b' -> 0;
                case 'k' -> 10;
                case 'm' -> 20;
                case 'g' -> 30;
                case 't' -> 40;
                default -> -1;
            };
            if (shift >= 0) {
                unit = 1L << shift;
                s = s.substring(0, s.length() - 1);
            }
        }
        try {
            double v = Double.parseDouble(s);
            if (v <= 0 || Double.isNaN(v) || v * unit > Long.MAX_VALUE) {
                throw new NumberFormatException();
            }
            return (long) (v * unit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid size \"" + text + "\": a number with an optional unit b, k, m, g or t");
        }
    }
}
