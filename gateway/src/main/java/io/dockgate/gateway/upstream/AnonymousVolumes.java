package io.dockgate.gateway.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.gateway.request.DockerJson;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The owners of the volumes the upstream makes itself for a container (anonymous volumes: {@code -v /data},
 * an image's VOLUME, a mount without a source), which carry no owner label: the container's creator, as
 * in the embedded engine. Recorded when the create succeeds, on disk by rename; a volume the upstream no
 * longer has is forgotten when a list shows it gone.
 */
public final class AnonymousVolumes {
    private final RecordFile file;
    private final Map<String, String> owners = new TreeMap<>();

    private AnonymousVolumes(Path path) {
        this.file = new RecordFile(path, "anonymous volumes' owners");
    }

    static AnonymousVolumes open(Path path) {
        AnonymousVolumes record = new AnonymousVolumes(path);
        byte[] bytes = record.file.read();
        if (bytes != null) {
            try {
                DockerJson.MAPPER.readTree(bytes).fields().forEachRemaining(e -> record.owners.put(e.getKey(), e.getValue().asText()));
            } catch (IOException | RuntimeException e) {
                throw new EngineException(ErrorKind.INTERNAL, "cannot read the record of anonymous volumes' owners " + path + ": " + e.getMessage());
            }
        }
        return record;
    }

    /** The owner of an anonymous volume, or null. */
    synchronized String owner(String name) {
        return owners.get(name);
    }

    /** A container's volumes the upstream made, owned by the container's creator. */
    synchronized void add(Collection<String> names, String owner) {
        if (names.isEmpty() || owner == null || owner.isEmpty()) {
            return;
        }
        names.forEach(n -> owners.put(n, owner));
        save();
    }

    synchronized List<String> ownedBy(String owner) {
        List<String> out = new ArrayList<>();
        owners.forEach((n, o) -> {
            if (o.equals(owner)) {
                out.add(n);
            }
        });
        return out;
    }

    /** Forgets volumes the upstream no longer has (a whole list's names). */
    synchronized void retain(Collection<String> existing) {
        if (owners.keySet().retainAll(new java.util.HashSet<>(existing))) {
            save();
        }
    }

    synchronized void removed(String name) {
        if (owners.remove(name) != null) {
            save();
        }
    }

    private void save() {
        ObjectNode json = DockerJson.MAPPER.createObjectNode();
        owners.forEach(json::put);
        try {
            file.write(DockerJson.MAPPER.writeValueAsBytes(json));
        } catch (IOException e) {
            throw new EngineException(ErrorKind.INTERNAL, "cannot serialise the record of anonymous volumes' owners: " + e.getMessage());
        }
    }

    void sync() {
        file.sync();
    }

    /** The names of a created container's volume mounts that the create did not name (the upstream made them). */
    static List<String> madeFor(JsonNode container, Collection<String> named) {
        List<String> out = new ArrayList<>();
        for (JsonNode m : container.path("Mounts")) {
            String name = m.path("Name").asText("");
            if (m.path("Type").asText().equals("volume") && !name.isEmpty() && !named.contains(name)) {
                out.add(name);
            }
        }
        return out;
    }
}
