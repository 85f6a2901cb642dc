package io.dockgate.engine.container;

import io.dockgate.engine.sys.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Size-based rotation of the k8s-file logs, json-file style ({@code max-size}, {@code max-file}).
 * With one file, conmon truncates the log itself at max-size. With more, the daemon checks the running
 * containers' logs four times a second: a log past max-size becomes {@code container.log.1} (older ones shift
 * up, the oldest goes) and conmon is told on its control FIFO to reopen its log; it writes to the renamed
 * file until then, so no line is lost. conmon's own limit counts bytes since it started, not since the
 * last reopen, so it cannot serve as a backstop for max-file: while the daemon is down such a log grows,
 * and is rotated when the daemon is back.
 */
final class LogRotation {
    private static final Logger LOG = LoggerFactory.getLogger(LogRotation.class);

    private final ContainerStore store;
    private final Supplier<java.util.function.Function<String, Path>> bundles;

    LogRotation(ContainerStore store, Supplier<java.util.function.Function<String, Path>> bundles) {
        this.store = store;
        this.bundles = bundles;
    }

    /** conmon's --log-size-max for a container (-1: none). */
    static long conmonLimit(ContainerSpec.LogConfig log) {
        if (log.maxSize() <= 0) {
            return -1;
        }
        return log.maxFile() <= 1 ? log.maxSize() : -1;
    }

    /** One pass over the running containers. */
    void check() {
        for (ContainerRecord c : store.all()) {
            ContainerSpec.LogConfig log = c.spec().host().logOrDefault();
            if (!c.status().state().hasProcess() || log.maxSize() <= 0 || log.maxFile() <= 1) {
                continue;
            }
            Path file = Path.of(c.logPath());
            try {
                if (Files.exists(file) && Files.size(file) >= log.maxSize()) {
                    rotate(file, log.maxFile());
                    Syscalls.writeFifo(bundles.get().apply(c.id()).resolve("ctl").toString(), Syscalls.bytes("2 0 0\n"));
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("rotating the log of {}: {}", c.id().substring(0, 12), e.toString());
            }
        }
    }

    static void rotate(Path file, int maxFile) throws IOException {
        Files.deleteIfExists(rotated(file, maxFile - 1));
        for (int i = maxFile - 2; i >= 1; i--) {
            Path from = rotated(file, i);
            if (Files.exists(from)) {
                Files.move(from, rotated(file, i + 1), StandardCopyOption.ATOMIC_MOVE);
            }
        }
        Files.move(file, rotated(file, 1), StandardCopyOption.ATOMIC_MOVE);
    }

    static Path rotated(Path file, int n) {
        return file.resolveSibling(file.getFileName() + "." + n);
    }
}
