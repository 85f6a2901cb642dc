package io.dockgate.engine;

import io.dockgate.config.files.AtomicFiles;
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

    private Engine(Path dataRoot, Path execRoot, String id, HostFacts host, EngineVersion version) {
        this.backingFilesystem = HostFacts.filesystemType(dataRoot);
        this.dataRoot = dataRoot;
        this.execRoot = execRoot;
        this.id = id;
        this.host = host;
        this.version = version;
    }

    /** Opens (creating if needed) the data and exec roots. Blocking: call it off the event loop. */
    public static Engine open(Path dataRoot, Path execRoot) {
        try {
            createPrivateDirectory(dataRoot);
            createPrivateDirectory(execRoot);
            String id = loadOrCreateId(dataRoot.resolve(ENGINE_ID_FILE));
            Engine engine = new Engine(dataRoot, execRoot, id, HostFacts.read(), EngineVersion.current());
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

    /** Object counts for /info. */
    public SystemCounts counts() {
        return new SystemCounts(0, 0, 0, 0, 0);
    }

    /** Container and image counts as /info reports them. */
    public record SystemCounts(int containers, int running, int paused, int stopped, int images) {
    }

    @Override
    public void close() {
        LOG.info("engine {} closed", id);
    }
}
