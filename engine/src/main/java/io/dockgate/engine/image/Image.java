package io.dockgate.engine.image;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;

/**
 * An image: its ID (SHA-256 of the configuration bytes), the configuration as stored, and the layer
 * DiffIDs the configuration lists, bottom first.
 */
public record Image(Digest id, byte[] configBytes, JsonNode config, List<Digest> diffIds) {

    /** The image's ChainIDs, bottom first; the last one is the top layer. */
    public List<Digest> chainIds() {
        java.util.ArrayList<Digest> chains = new java.util.ArrayList<>();
        Digest parent = null;
        for (Digest diff : diffIds) {
            parent = Digest.chain(parent, diff);
            chains.add(parent);
        }
        return chains;
    }

    public Instant created() {
        String text = config.path("created").asText("");
        try {
            return text.isEmpty() ? Instant.EPOCH : Instant.parse(text);
        } catch (RuntimeException e) {
            return Instant.EPOCH;
        }
    }

    /** The "config" object (Cmd, Env, Entrypoint, ...): never null. */
    public JsonNode runConfig() {
        return config.path("config");
    }
}
