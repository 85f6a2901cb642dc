package io.dockgate.engine.container;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.files.AtomicFiles;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.image.LayerStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Container metadata under {@code <data-root>/containers/<id>/container.json}, each write by rename;
 * unique names; lookup by name, full ID or unique ID prefix, as Docker does. Thread-safe.
 */
public final class ContainerStore {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]+");
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String[] LEFT = {"amber", "brisk", "calm", "dapper", "eager", "fond", "gentle", "hardy", "keen",
            "lucid", "merry", "nimble", "proud", "quiet", "rapid", "sharp", "tidy", "vivid", "witty", "zesty"};
    private static final String[] RIGHT = {"otter", "heron", "lynx", "falcon", "badger", "marten", "ibis", "panda", "raven",
            "tapir", "koala", "gecko", "bison", "crane", "egret", "finch", "llama", "moose", "newt", "quail"};

    private final Path root;
    private final Map<String, ContainerRecord> byId = new LinkedHashMap<>();
    private final Map<String, String> byName = new LinkedHashMap<>();
    /** Bumped by every save and delete: what was built from the records (the DNS names) knows when to rebuild. */
    private final java.util.concurrent.atomic.AtomicLong version = new java.util.concurrent.atomic.AtomicLong();

    public ContainerStore(Path dataRoot) throws IOException {
        this.root = dataRoot.resolve("containers");
        Files.createDirectories(root);
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path dir : dirs.toList()) {
                Path file = dir.resolve("container.json");
                if (dir.getFileName().toString().startsWith(".") || !Files.exists(file)) {
                    LOG.warn("removing incomplete container directory {}", dir.getFileName());
                    io.dockgate.files.FileTrees.delete(dir);
                    continue;
                }
                ContainerRecord r = JSON.readValue(file.toFile(), ContainerRecord.class);
                byId.put(r.id(), r);
                byName.put(r.name(), r.id());
            }
        }
    }

    public Path directory(String id) {
        return root.resolve(id);
    }

    /** A new 64-hex ID. */
    public static String newId() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** Validates a requested name or generates one; refuses names in use with Docker's 409 message. */
    public synchronized String reserveName(String requested, String id) {
        String name;
        if (requested == null || requested.isEmpty()) {
            do {
                name = "/" + LEFT[RANDOM.nextInt(LEFT.length)] + "_" + RIGHT[RANDOM.nextInt(RIGHT.length)] + "_" + (100 + RANDOM.nextInt(900));
            } while (byName.containsKey(name));
        } else {
            String bare = requested.startsWith("/") ? requested.substring(1) : requested;
            if (!NAME.matcher(bare).matches()) {
                throw EngineException.invalid("Invalid container name (" + requested + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
            }
            name = "/" + bare;
            String holder = byName.get(name);
            if (holder != null) {
                throw EngineException.conflict("Conflict. The container name \"" + name + "\" is already in use by container \""
                        + holder + "\". You have to remove (or rename) that container to be able to reuse that name.");
            }
        }
        byName.put(name, id);
        return name;
    }

    public synchronized void releaseName(String name, String id) {
        byName.remove(name, id);
    }

    /** Writes the record (atomically) and indexes it. */
    public synchronized void save(ContainerRecord record) throws IOException {
        Path dir = directory(record.id());
        Files.createDirectories(dir);
        AtomicFiles.write(dir.resolve("container.json"), JSON.writeValueAsBytes(record), AtomicFiles.PRIVATE);
        ContainerRecord previous = byId.put(record.id(), record);
        if (previous != null && !previous.name().equals(record.name())) {
            byName.remove(previous.name(), record.id());
        }
        byName.put(record.name(), record.id());
        version.incrementAndGet();
    }

    /** A number that changes whenever a record is saved or deleted. */
    public long version() {
        return version.get();
    }

    public synchronized void delete(String id) throws IOException {
        ContainerRecord r = byId.remove(id);
        if (r != null) {
            byName.remove(r.name(), id);
        }
        version.incrementAndGet();
        io.dockgate.engine.fs.Trash.discard(directory(id)); // its name starts with "." : an interrupted deletion is swept at start
    }

    /** By name ("/n" or "n"), full ID, or unique ID prefix. NOT_FOUND "No such container: X". */
    public synchronized ContainerRecord resolve(String ref) {
        ContainerRecord r = find(ref);
        if (r == null) {
            throw EngineException.notFound("No such container: " + ref);
        }
        return r;
    }

    public synchronized ContainerRecord find(String ref) {
        if (ref == null || ref.isEmpty()) {
            return null;
        }
        ContainerRecord exact = byId.get(ref);
        if (exact != null) {
            return exact;
        }
        String id = byName.get(ref.startsWith("/") ? ref : "/" + ref);
        if (id != null) {
            return byId.get(id);
        }
        if (ref.matches("[0-9a-f]+")) {
            List<ContainerRecord> matches = byId.values().stream().filter(c -> c.id().startsWith(ref)).toList();
            if (matches.size() > 1) {
                throw EngineException.invalid("multiple IDs found with provided prefix: " + ref);
            }
            if (matches.size() == 1) {
                return matches.get(0);
            }
        }
        return null;
    }

    public synchronized ContainerRecord get(String id) {
        return byId.get(id);
    }

    public synchronized List<ContainerRecord> all() {
        return new ArrayList<>(byId.values());
    }
}
