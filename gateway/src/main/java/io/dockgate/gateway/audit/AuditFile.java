package io.dockgate.gateway.audit;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The audit log's file, without the chain: created 0600 in a 0700 directory, its torn last line (a crash
 * mid-write) cut at open, appended to with one write per batch, cut back to its last complete line after
 * a failed write, reopened at its path after rotation, synced at close. Not thread-safe: the chain's lock
 * guards it.
 */
final class AuditFile {
    /** What the file held at open: its last complete line (null when empty) and the bytes cut after it. */
    record Tail(byte[] lastLine, long tornBytes) {
    }

    private final Path path;
    /** Appends go through the stream (one write(2), no channel bookkeeping); the channel cuts and syncs. */
    private FileOutputStream out;
    private FileChannel channel;
    private long written;

    private AuditFile(Path path, FileOutputStream out) throws IOException {
        this.path = path;
        this.out = out;
        this.channel = out.getChannel();
        this.written = channel.position();
    }

    /** Opens (or creates) the file for appending, after cutting a torn tail; {@code tail} is told what is left. */
    static AuditFile open(Path path, java.util.function.Consumer<Tail> tail) throws IOException {
        create(path);
        byte[] last = null;
        long torn = 0;
        try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw")) {
            long length = raf.length();
            long end = length;
            long pos = lastNewline(raf, length - 1);
            if (pos < length - 1) {
                torn = length - 1 - pos;
                end = pos + 1;
                raf.setLength(end);
            }
            if (end > 0) {
                long start = lastNewline(raf, end - 2);
                last = new byte[(int) (end - 1 - (start + 1))];
                raf.seek(start + 1);
                raf.readFully(last);
            }
        }
        tail.accept(new Tail(last, torn));
        return new AuditFile(path, new FileOutputStream(path.toFile(), true));
    }

    /** Creates the file (0600) and its directory (0700) if they do not exist. */
    private static void create(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        if (!Files.exists(file)) {
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // created meanwhile: appended to as it is
            }
        }
    }

    /** The position of the last newline at or before pos, or -1. */
    private static long lastNewline(RandomAccessFile raf, long pos) throws IOException {
        byte[] b = new byte[1];
        for (long p = pos; p >= 0; p--) {
            raf.seek(p);
            raf.readFully(b);
            if (b[0] == '\n') {
                return p;
            }
        }
        return -1;
    }

    Path path() {
        return path;
    }

    /** Appends whole lines; on failure the file is cut back to what was written before, and the error thrown. */
    void write(byte[] bytes, int length) throws IOException {
        try {
            out.write(bytes, 0, length);
            written += length;
        } catch (IOException | RuntimeException e) {
            try {
                channel.truncate(written);
            } catch (IOException ignored) {
                // a torn line is cut at the next open
            }
            throw e;
        }
    }

    /**
     * Appends to the file now at the path (after rotation moved the old one away; the same file when it
     * was not moved). Returns the old stream, for the caller to sync and close outside its lock.
     */
    FileOutputStream reopen() throws IOException {
        create(path);
        FileOutputStream next = new FileOutputStream(path.toFile(), true);
        FileOutputStream old = out;
        out = next;
        channel = next.getChannel();
        written = channel.size();
        return old;
    }

    /** Syncs and closes. */
    void close() throws IOException {
        channel.force(false);
        out.close();
    }
}
