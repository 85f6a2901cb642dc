package io.dockgate.engine.build;

import io.dockgate.engine.EngineException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The Dockerfile's word rules (as moby's shell lexer): single quotes keep everything, double quotes keep
 * spaces and allow variables and escapes of {@code " $ \} and the escape character, the escape character
 * outside quotes takes the next character literally; variables {@code $NAME}, {@code ${NAME}},
 * {@code ${NAME:-word}}, {@code ${NAME-word}}, {@code ${NAME:+word}}, {@code ${NAME+word}},
 * {@code ${NAME:?message}}; an unset variable is empty. Quotes are removed from the result.
 */
public final class ShellLex {
    private final char escape;
    /** The value of a variable, null when unset; null means: no expansion at all (variables kept as text). */
    private final Function<String, String> lookup;

    public ShellLex(char escape, Function<String, String> lookup) {
        this.escape = escape;
        this.lookup = lookup;
    }

    /** The text as one word: variables expanded, quotes and escapes removed, spaces kept. */
    public String word(String text) {
        List<String> out = process(text, false);
        return out.isEmpty() ? "" : out.get(0);
    }

    /** The text split into words at unquoted white space, each expanded as {@link #word}. */
    public List<String> words(String text) {
        return process(text, true);
    }

    private List<String> process(String text, boolean split) {
        List<String> words = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean inWord = false;
        int i = 0;
        int n = text.length();
        while (i < n) {
            char c = text.charAt(i);
            if (split && Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(current.toString());
                    current.setLength(0);
                    inWord = false;
                }
                i++;
                continue;
            }
            if (c == '$' && lookup != null && split) {
                // an unquoted variable's value is split into words at its white space, as dockerd splits it
                StringBuilder value = new StringBuilder();
                i = variable(text, i + 1, value);
                for (int k = 0; k < value.length(); k++) {
                    char v = value.charAt(k);
                    if (Character.isWhitespace(v)) {
                        if (inWord) {
                            words.add(current.toString());
                            current.setLength(0);
                            inWord = false;
                        }
                    } else {
                        current.append(v);
                        inWord = true;
                    }
                }
                continue;
            }
            inWord = true;
            if (c == '\'') {
                int end = text.indexOf('\'', i + 1);
                if (end < 0) {
                    throw EngineException.invalid("unexpected end of statement while looking for matching single-quote");
                }
                current.append(text, i + 1, end);
                i = end + 1;
            } else if (c == '"') {
                i = doubleQuoted(text, i + 1, current);
            } else if (c == escape) {
                if (i + 1 < n) {
                    current.append(text.charAt(i + 1));
                    i += 2;
                } else {
                    i++; // a trailing escape character stands for nothing
                }
            } else if (c == '$' && lookup != null) {
                i = variable(text, i + 1, current);
            } else {
                current.append(c);
                i++;
            }
        }
        if (inWord || !split && words.isEmpty()) {
            words.add(current.toString());
        }
        return words;
    }

    /** From just after an opening double quote; returns the index after the closing one. */
    private int doubleQuoted(String text, int i, StringBuilder out) {
        int n = text.length();
        while (i < n) {
            char c = text.charAt(i);
            if (c == '"') {
                return i + 1;
            }
            if (c == escape && i + 1 < n && "\"$".indexOf(text.charAt(i + 1)) >= 0
                    || c == escape && i + 1 < n && text.charAt(i + 1) == escape) {
                out.append(text.charAt(i + 1));
                i += 2;
            } else if (c == '$' && lookup != null) {
                i = variable(text, i + 1, out);
            } else {
                out.append(c);
                i++;
            }
        }
        throw EngineException.invalid("unexpected end of statement while looking for matching double-quote");
    }

    /** From just after a '$'; appends the value; returns the index after the variable. */
    private int variable(String text, int i, StringBuilder out) {
        int n = text.length();
        if (i >= n) {
            out.append('$');
            return i;
        }
        char c = text.charAt(i);
        if (c == '{') {
            int nameStart = i + 1;
            int j = nameStart;
            while (j < n && isNameChar(text.charAt(j))) {
                j++;
            }
            String name = text.substring(nameStart, j);
            if (name.isEmpty()) {
                throw EngineException.invalid("failed to process \"" + text + "\": missing ':' in substitution");
            }
            if (j >= n) {
                throw EngineException.invalid("failed to process \"" + text + "\": missing '}'");
            }
            if (text.charAt(j) == '}') {
                String v = lookup.apply(name);
                out.append(v == null ? "" : v);
                return j + 1;
            }
            boolean colon = text.charAt(j) == ':';
            int op = colon ? j + 1 : j;
            if (op >= n || "-+?".indexOf(text.charAt(op)) < 0) {
                throw EngineException.invalid("failed to process \"" + text + "\": unsupported modifier (" + text.charAt(j)
                        + ") in substitution");
            }
            char modifier = text.charAt(op);
            int end = closingBrace(text, op + 1);
            String word = text.substring(op + 1, end);
            String v = lookup.apply(name);
            boolean set = v != null && (!colon || !v.isEmpty());
            switch (modifier) {
                case '-' -> out.append(set ? v : new ShellLex(escape, lookup).word(word));
                case '+' -> out.append(set ? new ShellLex(escape, lookup).word(word) : "");
                default -> {
                    if (!set) {
                        String message = new ShellLex(escape, lookup).word(word);
                        throw EngineException.invalid(name + ": " + (message.isEmpty() ? "is not allowed to be unset" : message));
                    }
                    out.append(v);
                }
            }
            return end + 1;
        }
        if (!isNameChar(c)) {
            out.append('$');
            return i;
        }
        int j = i;
        if (Character.isDigit(c)) {
            j = i + 1; // $1: one digit, as sh
        } else {
            while (j < n && isNameChar(text.charAt(j))) {
                j++;
            }
        }
        String v = lookup.apply(text.substring(i, j));
        out.append(v == null ? "" : v);
        return j;
    }

    private static int closingBrace(String text, int from) {
        int depth = 0;
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '{') {
                depth++;
            } else if (c == '}') {
                if (depth == 0) {
                    return i;
                }
                depth--;
            }
        }
        throw EngineException.invalid("failed to process \"" + text + "\": missing '}'");
    }

    private static boolean isNameChar(char c) {
        return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9';
    }
}
