package io.dockgate.engine.volume;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.files.AtomicFiles;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.image.LayerStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Named volumes with the local driver, under {@code <data-root>/volumes/<name>/} ({@code volume.json}
 * written by rename, data in {@code _data}). Driver options (the local driver's {@code type}, {@code o},
 * {@code device}, which mount arbitrary devices or remote filesystems) are refused: a volume is a plain
 * directory. A volume used by a container cannot be removed. Thread-safe.
 */
public final class VolumeStore {
    private static final Logger LOG = LoggerFactory.getLogger(VolumeStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]+");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path root;
    private final Map<String, Volume> volumes = new LinkedHashMap<>();
    private Function<String, List<String>> users = name -> List.of();

    public VolumeStore(Path dataRoot) throws IOException {
        this.root = dataRoot.resolve("volumes");
        Files.createDirectories(root);
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path dir : dirs.toList()) {
                Path file = dir.resolve("volume.json");
                if (dir.getFileName().toString().startsWith(".") || !Files.exists(file)) {
                    LOG.warn("removing incomplete volume directory {}", dir.getFileName());
                    io.dockgate.files.FileTrees.delete(dir);
                    continue;
                }
                Volume v = JSON.readValue(file.toFile(), Volume.class);
                volumes.put(v.name(), v);
            }
        }
    }

    private volatile io.dockgate.engine.events.Events events = new io.dockgate.engine.events.Events();

    public void setEvents(io.dockgate.engine.events.Events events) {
        this.events = events;
    }

    /** Who uses a volume (container IDs): set by the container service. */
    public void setUsers(Function<String, List<String>> users) {
        this.users = users;
    }

    /** docker volume create, as asked for. */
    public Volume create(VolumeSpec spec) throws IOException {
        return create(spec.name(), spec.driver(), spec.labels(), spec.options());
    }

    /** docker volume create: idempotent for an existing volume with the same driver and no options. */
    public synchronized Volume create(String name, String driver, Map<String, String> labels, Map<String, String> options)
            throws IOException {
        String d = driver == null || driver.isEmpty() ? "local" : driver;
        if (!d.equals("local")) {
            throw EngineException.notFound("plugin \"" + d + "\" not found: dockgate has the local volume driver only");
        }
        if (options != null && !options.isEmpty()) {
            throw EngineException.invalid("volume driver options are not supported (" + String.join(", ", options.keySet())
                    + "): dockgate volumes are plain directories");
        }
        boolean anonymous = name == null || name.isEmpty();
        String n = anonymous ? HexFormat.of().formatHex(randomBytes()) : name;
        if (!NAME.matcher(n).matches()) {
            throw EngineException.invalid("create " + n + ": \"" + n + "\" includes invalid characters for a local volume name, "
                    + "only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path");
        }
        Volume existing = volumes.get(n);
        if (existing != null) {
            return existing;
        }
        Path dir = root.resolve(n);
        Path tmp = root.resolve("." + n);
        io.dockgate.files.FileTrees.delete(tmp);
        Files.createDirectories(tmp.resolve("_data"));
        Volume v = new Volume(n, "local", dir.resolve("_data").toString(), Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
                labels == null ? Map.of() : Map.copyOf(labels), Map.of(), anonymous, false);
        AtomicFiles.write(tmp.resolve("volume.json"), JSON.writeValueAsBytes(v), AtomicFiles.PRIVATE);
        Files.move(tmp, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        volumes.put(n, v);
        events.emit("volume", "create", n, io.dockgate.engine.events.Events.attributes("driver", "local"), v.labels());
        return v;
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return b;
    }

    public synchronized Volume get(String name) {
        Volume v = volumes.get(name);
        if (v == null) {
            throw EngineException.notFound("get " + name + ": no such volume");
        }
        return v;
    }

    public synchronized Volume find(String name) {
        return volumes.get(name);
    }

    public synchronized List<Volume> list() {
        return new ArrayList<>(volumes.values());
    }

    /** The containers using the volume. */
    public List<String> usedBy(String name) {
        return users.apply(name);
    }

    /** Marks the volume as populated (copy-up done). */
    public synchronized Volume markPopulated(String name) throws IOException {
        Volume v = get(name).withPopulated();
        AtomicFiles.write(root.resolve(name).resolve("volume.json"), JSON.writeValueAsBytes(v), AtomicFiles.PRIVATE);
        volumes.put(name, v);
        return v;
    }

    /** docker volume rm: refused while a container uses it (unless force, which only ignores a missing volume). */
    public void remove(String name, boolean force) throws IOException {
        synchronized (this) {
            if (!volumes.containsKey(name)) {
                if (force) {
                    return;
                }
                throw EngineException.notFound("get " + name + ": no such volume");
            }
        }
        List<String> using = users.apply(name);
        synchronized (this) {
            if (!using.isEmpty()) {
                throw EngineException.conflict("remove " + name + ": volume is in use - [" + String.join(", ", using) + "]");
            }
            Path dir = root.resolve(name);
            Path trash = root.resolve(".rm-" + name);
            Files.move(dir, trash, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Volume removed = volumes.remove(name);
            io.dockgate.files.FileTrees.delete(trash);
            events.emit("volume", "destroy", name, io.dockgate.engine.events.Events.attributes("driver", "local"), removed.labels());
        }
    }

    /** Bytes used by the volume's data (for system df and volume ls --size). */
    public long size(String name) throws IOException {
        Path data = root.resolve(name).resolve("_data");
        if (!Files.exists(data)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(data)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
