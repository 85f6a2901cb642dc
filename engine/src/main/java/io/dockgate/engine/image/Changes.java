package io.dockgate.engine.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.engine.EngineException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The Dockerfile instructions {@code docker import --change} may carry (CMD, ENTRYPOINT, ENV, WORKDIR,
 * USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL), applied to an image's run configuration. JSON (exec) form
 * and shell form, as Docker parses them.
 */
public final class Changes {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Changes() {
    }

    public static void apply(ObjectNode config, List<String> changes) {
        for (String change : changes) {
            String line = change.strip();
            if (line.isEmpty()) {
                continue;
            }
            int space = line.indexOf(' ');
            String instruction = (space < 0 ? line : line.substring(0, space)).toUpperCase(Locale.ROOT);
            String args = space < 0 ? "" : line.substring(space + 1).strip();
            switch (instruction) {
                case "CMD" -> config.set("Cmd", command(args, instruction));
                case "ENTRYPOINT" -> config.set("Entrypoint", command(args, instruction));
                case "ENV" -> env(config, args);
                case "WORKDIR" -> config.put("WorkingDir", requireArg(args, instruction));
                case "USER" -> config.put("User", requireArg(args, instruction));
                case "STOPSIGNAL" -> config.put("StopSignal", requireArg(args, instruction));
                case "EXPOSE" -> {
                    ObjectNode ports = config.has("ExposedPorts") ? (ObjectNode) config.get("ExposedPorts") : config.putObject("ExposedPorts");
                    for (String port : requireArg(args, instruction).split("\\s+")) {
                        if (!port.matches("\\d{1,5}(-\\d{1,5})?(/(tcp|udp|sctp))?")) {
                            throw EngineException.invalid("invalid EXPOSE port \"" + port + "\"");
                        }
                        ports.putObject(port.contains("/") ? port : port + "/tcp");
                    }
                }
                case "LABEL" -> {
                    ObjectNode labels = config.has("Labels") && config.get("Labels").isObject()
                            ? (ObjectNode) config.get("Labels") : config.putObject("Labels");
                    for (String[] kv : pairs(requireArg(args, instruction), instruction)) {
                        labels.put(kv[0], kv[1]);
                    }
                }
                case "VOLUME" -> {
                    ObjectNode volumes = config.has("Volumes") && config.get("Volumes").isObject()
                            ? (ObjectNode) config.get("Volumes") : config.putObject("Volumes");
                    JsonNode list = args.startsWith("[") ? parseArray(args, instruction) : null;
                    if (list != null) {
                        list.forEach(v -> volumes.putObject(v.asText()));
                    } else {
                        for (String v : requireArg(args, instruction).split("\\s+")) {
                            volumes.putObject(v);
                        }
                    }
                }
                default -> throw EngineException.invalid(instruction + " is not a valid change command");
            }
        }
    }

    private static String requireArg(String args, String instruction) {
        if (args.isEmpty()) {
            throw EngineException.invalid(instruction + " requires at least one argument");
        }
        return args;
    }

    private static ArrayNode command(String args, String instruction) {
        requireArg(args, instruction);
        if (args.startsWith("[")) {
            return parseArray(args, instruction);
        }
        ArrayNode shell = JSON.createArrayNode();
        shell.add("/bin/sh").add("-c").add(args);
        return shell;
    }

    private static ArrayNode parseArray(String args, String instruction) {
        try {
            JsonNode node = JSON.readTree(args);
            if (node instanceof ArrayNode array) {
                for (JsonNode item : array) {
                    if (!item.isTextual()) {
                        throw EngineException.invalid(instruction + ": the JSON form takes strings only");
                    }
                }
                return array;
            }
        } catch (java.io.IOException e) {
            // not JSON: fall through
        }
        throw EngineException.invalid(instruction + ": invalid JSON array " + args);
    }

    private static void env(ObjectNode config, String args) {
        requireArg(args, "ENV");
        ArrayNode env = config.has("Env") && config.get("Env").isArray() ? (ArrayNode) config.get("Env") : config.putArray("Env");
        List<String[]> vars = new ArrayList<>();
        if (!args.contains("=") || args.indexOf(' ') >= 0 && args.indexOf(' ') < args.indexOf('=')) {
            int space = args.indexOf(' ');
            if (space < 0) {
                throw EngineException.invalid("ENV names a variable without a value: " + args);
            }
            vars.add(new String[] {args.substring(0, space), args.substring(space + 1).strip()});
        } else {
            vars.addAll(pairs(args, "ENV"));
        }
        for (String[] kv : vars) {
            for (int i = env.size() - 1; i >= 0; i--) {
                if (env.get(i).asText().startsWith(kv[0] + "=")) {
                    env.remove(i);
                }
            }
            env.add(kv[0] + "=" + kv[1]);
        }
    }

    /** key=value pairs separated by spaces; keys and values may be double-quoted, with backslash escapes. */
    private static List<String[]> pairs(String args, String instruction) {
        List<String[]> result = new ArrayList<>();
        for (String token : splitUnquoted(args, ' ')) {
            if (token.isEmpty()) {
                continue;
            }
            List<String> kv = splitUnquoted(token, '=');
            if (kv.size() < 2 || kv.get(0).isEmpty()) {
                throw EngineException.invalid(instruction + ": expected key=value in \"" + args + "\"");
            }
            result.add(new String[] {unquote(kv.get(0)), unquote(kv.get(1))});
        }
        return result;
    }

    /** Splits at separators outside double quotes (a backslash escapes the next character). Keeps quotes. */
    private static List<String> splitUnquoted(String s, char separator) {
        List<String> parts = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                current.append(c).append(s.charAt(++i));
            } else if (c == '"') {
                quoted = !quoted;
                current.append(c);
            } else if (c == separator && !quoted) {
                parts.add(current.toString());
                current.setLength(0);
                if (separator == '=') {
                    current.append(s.substring(i + 1));
                    parts.add(current.toString());
                    return parts;
                }
            } else {
                current.append(c);
            }
        }
        if (quoted) {
            throw EngineException.invalid("unterminated quote in \"" + s + "\"");
        }
        parts.add(current.toString());
        return parts;
    }

    private static String unquote(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                sb.append(s.charAt(++i));
            } else if (c != '"') {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
