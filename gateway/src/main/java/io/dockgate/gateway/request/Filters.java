package io.dockgate.gateway.request;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.engine.EngineException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Docker's {@code filters} query parameter: JSON {@code {"key":{"value":true}}} or the legacy
 * {@code {"key":["value"]}}. Keys a route does not know are refused with Docker's message.
 */
public final class Filters {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Map<String, List<String>> values;

    private Filters(Map<String, List<String>> values) {
        this.values = values;
    }

    public static Filters parse(String text, Set<String> allowed) {
        Map<String, List<String>> values = new LinkedHashMap<>();
        if (text == null || text.isBlank()) {
            return new Filters(values);
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw EngineException.invalid("invalid filter: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw EngineException.invalid("invalid filter: not a JSON object");
        }
        var fields = root.fields();
        while (fields.hasNext()) {
            var e = fields.next();
            if (!allowed.contains(e.getKey())) {
                throw EngineException.invalid("invalid filter '" + e.getKey() + "'");
            }
            List<String> list = new ArrayList<>();
            JsonNode v = e.getValue();
            if (v.isObject()) {
                v.fields().forEachRemaining(x -> {
                    if (x.getValue().asBoolean(false)) {
                        list.add(x.getKey());
                    }
                });
            } else if (v.isArray()) {
                v.forEach(x -> list.add(x.asText()));
            } else {
                throw EngineException.invalid("invalid filter '" + e.getKey() + "': expected an object or an array");
            }
            values.put(e.getKey(), list);
        }
        return new Filters(values);
    }

    public List<String> get(String key) {
        return values.getOrDefault(key, List.of());
    }

    public boolean has(String key) {
        return values.containsKey(key) && !values.get(key).isEmpty();
    }

    /** A filter that takes true/false (dangling): refuses other values. */
    public Boolean bool(String key) {
        if (!has(key)) {
            return null;
        }
        String v = get(key).get(get(key).size() - 1);
        if (v.equalsIgnoreCase("true") || v.equals("1")) {
            return true;
        }
        if (v.equalsIgnoreCase("false") || v.equals("0")) {
            return false;
        }
        throw EngineException.invalid("invalid filter '" + key + "=" + v + "'");
    }

    /** path.Match-style glob: * and ? stop at '/', [] classes. */
    public static boolean glob(String pattern, String text) {
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            switch (c) {
                case '*' -> regex.append("[^/]*");
                case '?' -> regex.append("[^/]");
                case '[' -> {
                    int end = pattern.indexOf(']', i);
                    if (end < 0) {
                        return false;
                    }
                    regex.append('[').append(pattern, i + 1, end).append(']');
                    i = end;
                }
                case '\\' -> {
                    if (i + 1 < pattern.length()) {
                        regex.append(Pattern.quote(String.valueOf(pattern.charAt(++i))));
                    }
                }
                default -> regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        try {
            return Pattern.matches(regex.toString(), text);
        } catch (java.util.regex.PatternSyntaxException e) {
            return false;
        }
    }

    /** Labels filter: each value is "key" (present) or "key=value". */
    public static boolean labelsMatch(List<String> wanted, JsonNode labels) {
        for (String w : wanted) {
            int eq = w.indexOf('=');
            String key = eq < 0 ? w : w.substring(0, eq);
            JsonNode v = labels == null ? null : labels.get(key);
            if (v == null || v.isNull()) {
                return false;
            }
            if (eq >= 0 && !v.asText().equals(w.substring(eq + 1))) {
                return false;
            }
        }
        return true;
    }
}
