package io.dockgate.engine.build;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.engine.EngineException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parsed Dockerfile, as the classic builder reads it: the parser directives at the top ({@code # escape=}
 * and {@code # syntax=}), then instructions with their continuation lines joined (comment lines inside a
 * continuation skipped), their leading {@code --flags}, and the exec (JSON array) or shell form of their
 * arguments. Variables are expanded later, per instruction, by the builder.
 */
public record Dockerfile(char escape, List<Instruction> instructions) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern DIRECTIVE = Pattern.compile("^#\\s*([a-zA-Z][a-zA-Z0-9]*)\\s*=\\s*(.+?)\\s*$");
    private static final Set<String> KEYWORDS = Set.of("ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM",
            "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR");
    private static final Pattern HEREDOC = Pattern.compile("<<-?\\s*[\"']?[A-Za-z_][A-Za-z0-9_]*[\"']?");
    static final String BUILDKIT = "Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled";

    /**
     * One instruction: its keyword (upper case), flags ({@code --name=value}; a bare {@code --name} is
     * "true"), its arguments as written (after the flags), the exec form's strings (null for the shell
     * form), and its line (1-based) and original text for messages and history.
     */
    public record Instruction(String keyword, Map<String, String> flags, String args, List<String> json, int line, String original) {
        public boolean execForm() {
            return json != null;
        }

        /** "Unknown flag: x" for a flag the instruction does not take (dockerd's words). */
        public void allowFlags(String... allowed) {
            for (String f : flags.keySet()) {
                if (!List.of(allowed).contains(f)) {
                    throw EngineException.invalid("Dockerfile parse error line " + line + ": Unknown flag: " + f);
                }
            }
        }
    }

    /** Parses a Dockerfile; 400 with dockerd's wording for what cannot be read. */
    public static Dockerfile parse(String text) {
        String[] lines = text.replace("\r\n", "\n").split("\n", -1);
        char escape = '\\';
        int i = 0;
        Set<String> seen = new java.util.HashSet<>();
        for (; i < lines.length; i++) {
            Matcher m = DIRECTIVE.matcher(lines[i]);
            if (!m.matches()) {
                break;
            }
            String name = m.group(1).toLowerCase(Locale.ROOT);
            if (!seen.add(name)) {
                throw EngineException.invalid("only one " + name + " parser directive can be used");
            }
            if (name.equals("escape")) {
                String v = m.group(2);
                if (!v.equals("\\") && !v.equals("`")) {
                    throw EngineException.invalid("invalid escape token '" + v + "' does not match ` or \\");
                }
                escape = v.charAt(0);
            }
            // syntax= names a BuildKit frontend: the classic builder ignores it, as dockerd does
        }
        List<Instruction> out = new ArrayList<>();
        StringBuilder pending = null;
        int start = 0;
        for (; i < lines.length; i++) {
            String raw = lines[i];
            String trimmed = stripLeading(raw);
            if (pending == null && (trimmed.isEmpty() || trimmed.startsWith("#"))) {
                continue;
            }
            if (pending != null && trimmed.startsWith("#")) {
                continue; // a comment inside a continuation
            }
            if (pending != null && trimmed.isEmpty()) {
                continue; // an empty continuation line (dockerd warns and goes on)
            }
            String line = stripTrailing(trimmed);
            boolean continues = !line.isEmpty() && line.charAt(line.length() - 1) == escape; // as dockerd: any trailing one
            if (continues) {
                line = line.substring(0, line.length() - 1);
            }
            if (pending == null) {
                pending = new StringBuilder(line);
                start = i + 1;
            } else {
                pending.append(line);
            }
            if (!continues) {
                out.add(instruction(pending.toString(), start, escape));
                pending = null;
            }
        }
        if (pending != null && !pending.toString().isBlank()) {
            out.add(instruction(pending.toString(), start, escape));
        }
        if (out.isEmpty()) {
            throw EngineException.invalid("the Dockerfile (Dockerfile) cannot be empty");
        }
        return new Dockerfile(escape, List.copyOf(out));
    }

    /** One instruction from its (joined) text; the line number is for messages. */
    public static Instruction instruction(String text, int line, char escape) {
        String trimmed = text.strip();
        int space = 0;
        while (space < trimmed.length() && !Character.isWhitespace(trimmed.charAt(space))) {
            space++;
        }
        String keyword = trimmed.substring(0, space).toUpperCase(Locale.ROOT);
        if (!KEYWORDS.contains(keyword)) {
            throw EngineException.invalid("dockerfile parse error on line " + line + ": unknown instruction: " + trimmed.substring(0, space));
        }
        String rest = trimmed.substring(space).strip();
        Map<String, String> flags = new LinkedHashMap<>();
        while (rest.startsWith("--")) {
            int end = 0;
            boolean quoted = false;
            while (end < rest.length() && (quoted || !Character.isWhitespace(rest.charAt(end)))) {
                if (rest.charAt(end) == '"') {
                    quoted = !quoted;
                }
                end++;
            }
            String flag = rest.substring(2, end);
            if (flag.isEmpty()) {
                break; // a lone "--" is an argument
            }
            int eq = flag.indexOf('=');
            String name = eq < 0 ? flag : flag.substring(0, eq);
            String value = eq < 0 ? "true" : unquote(flag.substring(eq + 1));
            flags.put(name.toLowerCase(Locale.ROOT), value);
            rest = rest.substring(end).strip();
        }
        List<String> json = null;
        if (rest.startsWith("[")) {
            json = jsonArray(rest);
        }
        if (json == null && (keyword.equals("RUN") || keyword.equals("COPY") || keyword.equals("ADD")) && HEREDOC.matcher(rest).find()) {
            throw EngineException.invalid("Dockerfile parse error line " + line + ": heredocs require BuildKit. " + BUILDKIT);
        }
        return new Instruction(keyword, Map.copyOf(flags), rest, json, line, trimmed);
    }

    private static String unquote(String v) {
        return v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"") ? v.substring(1, v.length() - 1) : v;
    }

    /** The exec form: a JSON array of strings, or null when the text is not one (then it is the shell form). */
    static List<String> jsonArray(String text) {
        try {
            JsonNode n = JSON.readTree(text);
            if (n == null || !n.isArray()) {
                return null;
            }
            List<String> out = new ArrayList<>();
            for (JsonNode e : n) {
                if (!e.isTextual()) {
                    return null;
                }
                out.add(e.asText());
            }
            return List.copyOf(out);
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private static String stripLeading(String s) {
        int i = 0;
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return s.substring(i);
    }

    private static String stripTrailing(String s) {
        int i = s.length();
        while (i > 0 && Character.isWhitespace(s.charAt(i - 1))) {
            i--;
        }
        return s.substring(0, i);
    }

    /**
     * ENV and LABEL arguments: {@code key=value} pairs (quotes and escapes as in words), or the old
     * {@code ENV key value} form (one key; the rest of the line is the value). Keys and values expanded by lex.
     */
    public static List<Map.Entry<String, String>> keyValues(Instruction in, char escape, ShellLex lex) {
        List<String> tokens = splitPairs(in.args(), escape);
        if (tokens.isEmpty()) {
            throw EngineException.invalid(in.keyword() + " requires at least one argument");
        }
        List<Map.Entry<String, String>> out = new ArrayList<>();
        if (!tokens.get(0).contains("=")) {
            if (tokens.size() < 2) {
                throw EngineException.invalid(in.keyword() + " must have two arguments");
            }
            String s = in.args().strip();
            int sp = 0;
            while (sp < s.length() && !Character.isWhitespace(s.charAt(sp))) {
                sp++;
            }
            out.add(Map.entry(lex.word(s.substring(0, sp)), lex.word(s.substring(sp).strip())));
            return out;
        }
        for (String token : tokens) {
            int eq = token.indexOf('=');
            if (eq <= 0) {
                throw EngineException.invalid("Syntax error - can't find = in \"" + token + "\". Must be of the form: name=value");
            }
            String key = lex.word(token.substring(0, eq));
            if (key.isEmpty()) {
                throw EngineException.invalid(in.keyword() + " names can not be blank");
            }
            out.add(Map.entry(key, lex.word(token.substring(eq + 1))));
        }
        return out;
    }

    /** The arguments split at white space outside quotes, the quotes and escapes kept (each piece is a word). */
    static List<String> splitPairs(String args, char escape) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        char quote = 0;
        for (int i = 0; i < args.length(); i++) {
            char c = args.charAt(i);
            if (quote == 0 && Character.isWhitespace(c)) {
                if (cur.length() > 0) {
                    out.add(cur.toString());
                    cur.setLength(0);
                }
                continue;
            }
            if (quote == 0 && (c == '"' || c == '\'')) {
                quote = c;
            } else if (quote == c) {
                quote = 0;
            } else if (c == escape && i + 1 < args.length() && quote != '\'') {
                cur.append(c);
                c = args.charAt(++i);
            }
            cur.append(c);
        }
        if (cur.length() > 0) {
            out.add(cur.toString());
        }
        return out;
    }
}
