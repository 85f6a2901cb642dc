package io.dockgate.gateway.upstream;

import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * One of upstream mode's small records (image names' owners, anonymous volumes' owners) on disk: written
 * whole by rename (a crash leaves the old record or the new one), on a writer thread of its own so that
 * callers on event loops never wait on the disk; the latest snapshot wins when writes pile up.
 */
final class RecordFile {
    private static final ExecutorService WRITER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "dockgate-upstream-records");
        t.setDaemon(true);
        return t;
    });

    private final Path file;
    private final String what;
    private byte[] pending;

    RecordFile(Path file, String what) {
        this.file = file;
        this.what = what;
    }

    Path path() {
        return file;
    }

    /** The record's bytes, or null when there is none yet. */
    byte[] read() {
        try {
            return Files.exists(file) ? Files.readAllBytes(file) : null;
        } catch (IOException e) {
            throw new EngineException(ErrorKind.INTERNAL, "cannot read the record of " + what + " " + file + ": " + e.getMessage());
        }
    }

    /** Schedules a snapshot to be written. */
    synchronized void write(byte[] snapshot) {
        boolean scheduled = pending != null;
        pending = snapshot;
        if (!scheduled) {
            WRITER.execute(this::flush);
        }
    }

    private void flush() {
        byte[] bytes;
        synchronized (this) {
            bytes = pending;
            pending = null;
        }
        if (bytes == null) {
            return;
        }
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(tmp, bytes);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            org.slf4j.LoggerFactory.getLogger(RecordFile.class).error("cannot write the record of {} {}: {}", what, file, e.getMessage());
        }
    }

    /** Waits until what was written is on disk. */
    void sync() {
        try {
            WRITER.submit(this::flush).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new EngineException(ErrorKind.INTERNAL, "cannot write the record of " + what + ": " + e);
        }
    }
}
