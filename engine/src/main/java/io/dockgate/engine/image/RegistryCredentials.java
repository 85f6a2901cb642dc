package io.dockgate.engine.image;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.EngineException;
import java.util.Base64;

/**
 * Credentials from Docker's {@code X-Registry-Auth} header: base64url JSON with username and password,
 * or an identity token. {@link #NONE} pulls anonymously.
 */
public record RegistryCredentials(String username, String password, String identityToken) {
    public static final RegistryCredentials NONE = new RegistryCredentials(null, null, null);

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
            String user = n.path("username").asText("");
            String pass = n.path("password").asText("");
            String token = n.path("identitytoken").asText("");
            return new RegistryCredentials(user.isEmpty() ? null : user, pass.isEmpty() ? null : pass,
                    token.isEmpty() ? null : token);
        } catch (IllegalArgumentException | java.io.IOException e) {
            throw EngineException.invalid("invalid X-Registry-Auth header");
        }
    }

    public boolean hasPassword() {
        return username != null && password != null;
    }

    @Override
    public String toString() {
        return "RegistryCredentials[" + (username == null ? "anonymous" : username) + "]";
    }
}
