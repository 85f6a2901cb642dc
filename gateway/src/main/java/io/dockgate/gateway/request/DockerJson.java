package io.dockgate.gateway.request;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.engine.EngineException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reading Docker's request bodies as the engine does: field names match case-insensitively (Go's JSON
 * decoding), explicit nulls count as absent, and a name given twice (in the same case, or in another case
 * with another value, at any depth) is refused rather than letting the last one win silently, as is
 * anything after the body's one value.
 */
public final class DockerJson {
    public static final ObjectMapper MAPPER = new ObjectMapper();
    /**
     * How bodies are read: a name given twice in the same case (at any depth: Jackson would keep the last)
     * and anything after the first value are refused, so that no second reading of the bytes can differ.
     */
    private static final com.fasterxml.jackson.databind.ObjectReader BODIES = MAPPER.reader()
            .with(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .with(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private DockerJson() {
    }

    public static JsonNode parse(byte[] body) {
        if (body == null || body.length == 0) {
            return MAPPER.createObjectNode();
        }
        try {
            JsonNode n = BODIES.readTree(body);
            if (n == null || n.isNull()) {
                return MAPPER.createObjectNode();
            }
            if (!n.isObject()) {
                throw EngineException.invalid("invalid JSON: expected an object");
            }
            checkDuplicates(n);
            return n;
        } catch (java.io.IOException e) {
            throw EngineException.invalid("invalid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    private static void checkDuplicates(JsonNode n) {
        if (n.isObject()) {
            Map<String, String> seen = new LinkedHashMap<>();
            Iterator<String> names = n.fieldNames();
            while (names.hasNext()) {
                String name = names.next();
                refuseFoldingIntoAscii(name);
                String previous = seen.put(name.toLowerCase(java.util.Locale.ROOT), name);
                // the same name in another case is refused unless it says the same (docker-java sends EnableIPv6 and
                // enableIPv6 alike): then no reading, first or last wins, can differ
                if (previous != null && !n.get(previous).equals(n.get(name))) {
                    throw EngineException.invalid("invalid JSON: field \"" + name + "\" given twice (as \"" + previous + "\")");
                }
                checkDuplicates(n.get(name));
            }
        } else if (n.isArray()) {
            n.forEach(DockerJson::checkDuplicates);
        }
    }

    /**
     * The non-ASCII letters whose case mappings land on ASCII ones: the Kelvin sign and the long s fold to
     * k and s in Go's JSON decoding (so {@code "Bind\u017f"} is Binds to dockerd), the dotless i and the dotted
     * capital I fold to i in Java's case-insensitive comparison but not in Go's. A name holding one could be
     * read as one field here and as another (or none) by an engine; Docker's names never hold one.
     */
    private static final String FOLDS_INTO_ASCII = "\u212a\u017f\u0131\u0130";

    private static void refuseFoldingIntoAscii(String name) {
        for (int i = 0; i < name.length(); i++) {
            if (FOLDS_INTO_ASCII.indexOf(name.charAt(i)) >= 0) {
                throw EngineException.invalid("invalid JSON: the field name \"" + name + "\" holds a character that case-folds"
                        + " into ASCII (U+" + String.format("%04X", (int) name.charAt(i)) + ")");
            }
        }
    }

    /** The field, matched case-insensitively; null when absent or null. */
    public static JsonNode field(JsonNode object, String name) {
        if (object == null || !object.isObject()) {
            return null;
        }
        Iterator<Map.Entry<String, JsonNode>> it = object.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equalsIgnoreCase(name)) {
                return e.getValue() == null || e.getValue().isNull() ? null : e.getValue();
            }
        }
        return null;
    }

    public static String text(JsonNode object, String name) {
        JsonNode v = field(object, name);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            throw EngineException.invalid("invalid JSON: " + name + " must be a string");
        }
        return v.asText();
    }

    public static boolean bool(JsonNode object, String name) {
        JsonNode v = field(object, name);
        if (v != null && !v.isBoolean()) {
            throw EngineException.invalid("invalid JSON: " + name + " must be a boolean");
        }
        return v != null && v.asBoolean();
    }

    public static long number(JsonNode object, String name) {
        JsonNode v = field(object, name);
        if (v != null && !v.isNumber()) {
            throw EngineException.invalid("invalid JSON: " + name + " must be a number");
        }
        return v == null ? 0 : v.asLong();
    }

    /** A string list; Docker also accepts a single string for Cmd/Entrypoint (shell form is the client's job). */
    public static List<String> strings(JsonNode object, String name) {
        JsonNode v = field(object, name);
        if (v == null) {
            return null;
        }
        List<String> list = new ArrayList<>();
        if (v.isTextual()) {
            list.add(v.asText());
            return list;
        }
        if (!v.isArray()) {
            throw EngineException.invalid("invalid JSON: " + name + " must be a list of strings");
        }
        for (JsonNode item : v) {
            if (!item.isTextual()) {
                throw EngineException.invalid("invalid JSON: " + name + " must be a list of strings");
            }
            list.add(item.asText());
        }
        return list;
    }

    public static Map<String, String> stringMap(JsonNode object, String name) {
        JsonNode v = field(object, name);
        Map<String, String> map = new LinkedHashMap<>();
        if (v == null) {
            return map;
        }
        if (!v.isObject()) {
            throw EngineException.invalid("invalid JSON: " + name + " must be an object of strings");
        }
        v.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().isNull() ? "" : e.getValue().asText()));
        return map;
    }

    /** True when the field is present with a non-empty value (list, object, string, true, non-zero). */
    public static boolean present(JsonNode object, String name) {
        return isSet(field(object, name));
    }

    /** True for a value that asks for something: not null, empty, "", false or zero. */
    public static boolean isSet(JsonNode v) {
        if (v == null || v.isNull()) {
            return false;
        }
        if (v.isArray() || v.isObject()) {
            return !v.isEmpty();
        }
        if (v.isTextual()) {
            return !v.asText().isEmpty();
        }
        if (v.isBoolean()) {
            return v.asBoolean();
        }
        if (v.isNumber()) {
            return v.asLong() != 0;
        }
        return true;
    }
}
