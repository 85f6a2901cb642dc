package io.dockgate.engine.net;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.engine.EngineException;
import io.dockgate.files.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Network records under {@code <data-root>/networks/<id>.json}, written by rename; looked up as dockerd
 * does: full ID, then exact name, then a unique ID prefix. Thread-safe.
 */
final class NetworkStore {
    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final Path root;
    private final Map<String, NetworkRecord> byId = new LinkedHashMap<>();

    NetworkStore(Path dataRoot) throws IOException {
        this.root = dataRoot.resolve("networks");
        Files.createDirectories(root);
        try (Stream<Path> files = Files.list(root)) {
            for (Path f : files.sorted().toList()) {
                String name = f.getFileName().toString();
                if (!name.endsWith(".json")) {
                    Files.deleteIfExists(f); // a temporary file a crash left
                    continue;
                }
                NetworkRecord n = JSON.readValue(f.toFile(), NetworkRecord.class);
                byId.put(n.id(), n);
            }
        }
    }

    synchronized void save(NetworkRecord n) throws IOException {
        AtomicFiles.write(root.resolve(n.id() + ".json"), JSON.writeValueAsBytes(n), AtomicFiles.PRIVATE);
        byId.put(n.id(), n);
    }

    synchronized void delete(String id) throws IOException {
        Files.deleteIfExists(root.resolve(id + ".json"));
        byId.remove(id);
    }

    synchronized List<NetworkRecord> all() {
        return new ArrayList<>(byId.values());
    }

    /** By full ID, exact name or unique ID prefix; null when none. Ambiguous prefixes are refused. */
    synchronized NetworkRecord find(String ref) {
        if (ref == null || ref.isEmpty()) {
            return null;
        }
        NetworkRecord exact = byId.get(ref);
        if (exact != null) {
            return exact;
        }
        for (NetworkRecord n : byId.values()) {
            if (n.name().equals(ref)) {
                return n;
            }
        }
        List<NetworkRecord> prefixed = byId.values().stream().filter(n -> n.id().startsWith(ref)).toList();
        if (prefixed.size() > 1) {
            throw EngineException.invalid("network " + ref + " is ambiguous (" + prefixed.size() + " matches found based on ID prefix)");
        }
        return prefixed.isEmpty() ? null : prefixed.get(0);
    }

    /** As {@link #find}, or Docker's 404. */
    NetworkRecord get(String ref) {
        NetworkRecord n = find(ref);
        if (n == null) {
            throw EngineException.notFound("network " + ref + " not found");
        }
        return n;
    }
}
