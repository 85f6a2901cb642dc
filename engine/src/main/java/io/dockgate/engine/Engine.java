package io.dockgate.engine;

import io.dockgate.files.AtomicFiles;
import io.dockgate.engine.container.Containers;
import io.dockgate.engine.image.ImageStore;
import io.dockgate.engine.net.Networks;
import io.dockgate.engine.net.Sandboxes;
import io.dockgate.engine.events.Events;
import io.dockgate.engine.volume.VolumeStore;
import io.dockgate.engine.runtime.Runc;
import io.dockgate.engine.snapshot.SnapshotService;
import java.util.Optional;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine facade the gateway delegates to. It owns the data root (persistent state) and the exec
 * root (runtime state). This first version answers the system questions; images and containers are
 * added behind the same facade.
 */
public final class Engine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    private static final String ENGINE_ID_FILE = "engine-id";

    private final Path dataRoot;
    private final Path execRoot;
    private final String id;
    private final HostFacts host;
    private final EngineVersion version;
    private final String backingFilesystem;
    private final ImageStore images;
    private final VolumeStore volumes;
    private final Networks networks;
    private final Events events;
    private final Limits limits;
    private final io.dockgate.engine.build.Builder builder;
    private final Containers containers;
    private final String containersUnavailable;

    /**
     * Resource caps for untrusted input.
     *
     * @param maxLayerBytes   uncompressed bytes one layer may unpack to (decompression-bomb cap)
     * @param maxArchiveBytes bytes a loaded archive may hold
     */
    public record Limits(long maxLayerBytes, long maxArchiveBytes, long maxBuildContextBytes) {
        public static final long DEFAULT_BUILD_CONTEXT = 10L << 30;
        public static final Limits DEFAULT = new Limits(64L << 30, 256L << 30, DEFAULT_BUILD_CONTEXT);

        /** The same with another largest build context ({@code --max-build-context}). */
        public Limits withBuildContext(long bytes) {
            return new Limits(maxLayerBytes, maxArchiveBytes, bytes);
        }
    }

    private Engine(Path dataRoot, Path execRoot, String id, HostFacts host, EngineVersion version, ImageStore images,
                   VolumeStore volumes, Events events, Limits limits, Containers containers, String containersUnavailable,
                   Networks networks, io.dockgate.engine.build.Builder builder) {
        this.builder = builder;
        this.volumes = volumes;
        this.networks = networks;
        this.events = events;
        this.containers = containers;
        this.containersUnavailable = containersUnavailable;
        this.images = images;
        this.limits = limits;
        this.backingFilesystem = HostFacts.filesystemType(dataRoot);
        this.dataRoot = dataRoot;
        this.execRoot = execRoot;
        this.id = id;
        this.host = host;
        this.version = version;
    }

    /** Opens (creating if needed) the data and exec roots. Blocking: call it off the event loop. */
    public static Engine open(Path dataRoot, Path execRoot) {
        return open(dataRoot, execRoot, Limits.DEFAULT);
    }

    /** Opens with explicit input limits, without bridge networking (containers default to network none). Blocking. */
    public static Engine open(Path dataRoot, Path execRoot, Limits limits) {
        return open(dataRoot, execRoot, limits, new Networks.Options("none", null, false));
    }

    /** Opens with explicit input limits and networking. Blocking. */
    public static Engine open(Path dataRoot, Path execRoot, Limits limits, Networks.Options networking) {
        try {
            createPrivateDirectory(dataRoot);
            createPrivateDirectory(execRoot);
            String id = loadOrCreateId(dataRoot.resolve(ENGINE_ID_FILE));
            ImageStore images = ImageStore.open(dataRoot, limits.maxLayerBytes());
            VolumeStore volumes = new VolumeStore(dataRoot);
            Events events = new Events();
            images.setEvents(events);
            volumes.setEvents(events);
            Networks networks = new Networks(dataRoot, networking);
            networks.setEvents(events);
            networks.start();
            Containers containers = null;
            io.dockgate.engine.build.Builder builder = null;
            String unavailable = null;
            Optional<Path> runc = which("runc");
            Optional<Path> conmon = which("conmon");
            if (runc.isEmpty() || conmon.isEmpty()) {
                unavailable = (runc.isEmpty() ? "runc" : "conmon") + " is not installed (apt-get install runc conmon): containers are unavailable";
                LOG.error(unavailable);
            } else {
                SnapshotService snapshots = new SnapshotService(dataRoot, execRoot);
                containers = new Containers(dataRoot, execRoot, images, volumes, snapshots,
                        new Runc(runc.get(), execRoot.resolve("runc")), conmon.get(), events, networks, new Sandboxes(networks, execRoot));
                containers.recover();
                builder = new io.dockgate.engine.build.Builder(images, containers, snapshots, dataRoot.resolve("build"));
                builder.sweep();
            }
            Engine engine = new Engine(dataRoot, execRoot, id, HostFacts.read(), EngineVersion.current(), images, volumes, events,
                    limits, containers, unavailable, networks, builder);
            LOG.info("engine {} opened: data-root {}, exec-root {}", id, dataRoot, execRoot);
            return engine;
        } catch (IOException e) {
            throw new EngineException(ErrorKind.INTERNAL, "cannot open engine state: " + e.getMessage(), e);
        }
    }

    private static void createPrivateDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        }
    }

    private static String loadOrCreateId(Path file) throws IOException {
        if (Files.exists(file)) {
            String text = Files.readString(file).trim();
            try {
                return UUID.fromString(text).toString();
            } catch (IllegalArgumentException e) {
                LOG.warn("{} holds no valid engine ID; writing a new one", file);
            }
        }
        String id = UUID.randomUUID().toString();
        AtomicFiles.writeString(file, id + "\n", AtomicFiles.PRIVATE);
        return id;
    }

    public String id() {
        return id;
    }

    /** Bridge networks (the default one and user-defined ones). */
    public Networks networks() {
        return networks;
    }

    public HostFacts host() {
        return host;
    }

    public EngineVersion version() {
        return version;
    }

    public Path dataRoot() {
        return dataRoot;
    }

    /** The filesystem type under the data root (e.g. ext4, xfs), as /proc/self/mounts names it. */
    public String backingFilesystem() {
        return backingFilesystem;
    }

    public Path execRoot() {
        return execRoot;
    }

    /** The image store (blocking API: call it from worker threads). */
    public ImageStore images() {
        return images;
    }

    /** The event bus (docker events). */
    public Events events() {
        return events;
    }

    /** Named volumes (blocking API). */
    public VolumeStore volumes() {
        return volumes;
    }

    public Limits limits() {
        return limits;
    }

    /** The classic builder; UNAVAILABLE when containers are. */
    public io.dockgate.engine.build.Builder builder() {
        if (builder == null) {
            throw new EngineException(ErrorKind.UNAVAILABLE, containersUnavailable);
        }
        return builder;
    }

    /** The container service; UNAVAILABLE when runc or conmon is missing. */
    public Containers containers() {
        if (containers == null) {
            throw new EngineException(ErrorKind.UNAVAILABLE, containersUnavailable);
        }
        return containers;
    }

    /** Finds an executable on PATH (and in the sbin directories, which a non-login PATH may lack). */
    static Optional<Path> which(String name) {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin";
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                return Optional.of(Path.of(dir, name));
            }
        }
        return Optional.empty();
    }

    /** Object counts for /info. */
    public SystemCounts counts() {
        int total = 0;
        int running = 0;
        int paused = 0;
        if (containers != null) {
            for (var c : containers.list()) {
                total++;
                switch (c.status().state()) {
                    case RUNNING, RESTARTING -> running++;
                    case PAUSED -> paused++;
                    default -> { }
                }
            }
        }
        return new SystemCounts(total, running, paused, total - running - paused, images.count());
    }

    /** Container and image counts as /info reports them. */
    public record SystemCounts(int containers, int running, int paused, int stopped, int images) {
    }

    @Override
    public void close() {
        if (containers != null) {
            try {
                containers.close();
            } catch (IOException e) {
                LOG.warn("closing the container service: {}", e.getMessage());
            }
        }
        LOG.info("engine {} closed (running containers keep running under their conmon)", id);
    }
}
