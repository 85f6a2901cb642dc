package io.dockgate.engine.fs;

import io.dockgate.engine.image.LayerStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Directories that are done with (a removed container's writable layer, a stopped container's bundle)
 * are renamed out of the way at once, so the operation that removes them answers without waiting for
 * the disk, and deleted by one background thread. A crash leaves {@code .trash-*} entries, which
 * {@link #sweep} deletes at start.
 */
public final class Trash {
    private static final Logger LOG = LoggerFactory.getLogger(Trash.class);
    private static final String PREFIX = ".trash-";
    private static final ExecutorService CLEANER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "dockgate-trash");
        t.setDaemon(true);
        return t;
    });

    private Trash() {
    }

    /** Moves dir aside (same parent, so the rename is atomic) and deletes it in the background. */
    public static void discard(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Path doomed = dir.resolveSibling(PREFIX + dir.getFileName() + "-" + System.nanoTime());
        Files.move(dir, doomed, StandardCopyOption.ATOMIC_MOVE);
        CLEANER.execute(() -> delete(doomed));
    }

    /** Deletes what a crash left in parent. */
    public static void sweep(Path parent) throws IOException {
        if (!Files.isDirectory(parent)) {
            return;
        }
        try (Stream<Path> s = Files.list(parent)) {
            s.filter(p -> p.getFileName().toString().startsWith(PREFIX)).forEach(Trash::delete);
        }
    }

    /** Waits until every discarded directory is deleted (at close, and for tests). */
    public static void drain() {
        try {
            Future<?> f = CLEANER.submit(() -> { });
            f.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("waiting for background deletions: {}", e.toString());
        }
    }

    private static void delete(Path p) {
        try {
            io.dockgate.files.FileTrees.delete(p);
        } catch (IOException | RuntimeException e) {
            LOG.warn("deleting {}: {}", p, e.toString());
        }
    }
}
