package io.dockgate.engine.image;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.EngineException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * Credentials for a registry, from Docker's AuthConfig (the {@code X-Registry-Auth} header as base64url
 * JSON, an entry of {@code X-Registry-Config}, a {@code POST /auth} body): username and password (or
 * {@code auth}, base64 of user:password), an identity token (a token server's refresh token), or a
 * registry token (a bearer token sent as it is). {@link #NONE} is anonymous. Never printed: toString
 * names the user only.
 */
public record RegistryCredentials(String username, String password, String identityToken, String registryToken) {
    public static final RegistryCredentials NONE = new RegistryCredentials(null, null, null, null);

    public static RegistryCredentials fromHeader(String header) {
        if (header == null || header.isBlank()) {
            return NONE;
        }
        try {
            String padded = header.trim();
            byte[] json = Base64.getUrlDecoder().decode(padded.replace('+', '-').replace('/', '_').replaceAll("=+$", ""));
            JsonNode n = ImageStore.JSON.readTree(json);
            if (n == null || !n.isObject()) {
                return NONE;
            }
            return fromJson(n);
        } catch (IllegalArgumentException | java.io.IOException e) {
            throw EngineException.invalid("invalid X-Registry-Auth header");
        }
    }

    /** An AuthConfig object; field names matched without regard to case, as Go's decoder does. */
    public static RegistryCredentials fromJson(JsonNode n) {
        String user = text(n, "username");
        String pass = text(n, "password");
        String auth = text(n, "auth");
        if (auth != null && user == null && pass == null) {
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(auth.strip()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw EngineException.invalid("invalid auth in the registry credentials: not base64");
            }
            int colon = decoded.indexOf(':');
            if (colon < 0) {
                throw EngineException.invalid("invalid auth in the registry credentials: not user:password");
            }
            user = decoded.substring(0, colon);
            pass = decoded.substring(colon + 1);
        }
        return new RegistryCredentials(empty(user), empty(pass), text(n, "identitytoken"), text(n, "registrytoken"));
    }

    private static String text(JsonNode n, String field) {
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().toLowerCase(Locale.ROOT).equals(field) && e.getValue().isTextual() && !e.getValue().asText().isEmpty()) {
                return e.getValue().asText();
            }
        }
        return null;
    }

    private static String empty(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    public boolean hasPassword() {
        return username != null && password != null;
    }

    @Override
    public String toString() {
        return "RegistryCredentials[" + (username == null ? "anonymous" : username) + "]";
    }
}
