package io.dockgate.engine.image;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** The shapes shared by archive reading: a manifest.json entry and the invalid-archive failure. */
final class ArchiveReader {
    /** One image in an archive: paths of its config and layer blobs, and its tags. */
    record Entry(String config, List<String> layers, List<String> repoTags) {
    }

    /** An archive that cannot be loaded, with the reason. */
    static final class InvalidArchiveException extends IOException {
        InvalidArchiveException(String message) {
            super(message);
        }
    }

    private ArchiveReader() {
    }

    /** The images listed in a manifest.json. */
    static List<Entry> manifestEntries(JsonNode list) throws IOException {
        if (!list.isArray() || list.isEmpty()) {
            throw new InvalidArchiveException("invalid archive: manifest.json lists no image");
        }
        List<Entry> entries = new ArrayList<>();
        for (JsonNode item : list) {
            if (!item.path("Config").isTextual() || !item.path("Layers").isArray()) {
                throw new InvalidArchiveException("invalid archive: manifest.json entry without Config or Layers");
            }
            List<String> layers = new ArrayList<>();
            item.get("Layers").forEach(l -> layers.add(l.asText()));
            List<String> tags = new ArrayList<>();
            item.path("RepoTags").forEach(t -> tags.add(t.asText()));
            entries.add(new Entry(item.get("Config").asText(), layers, tags));
        }
        return entries;
    }
}
