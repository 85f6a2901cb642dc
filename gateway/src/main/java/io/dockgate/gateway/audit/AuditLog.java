package io.dockgate.gateway.audit;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tamper-evident audit log: one JSON line per record, each carrying its sequence number and the
 * SHA-256 of the line before it ({@code prev}; 64 zeros for the first), so that an edited, removed or
 * reordered line breaks the chain ({@link AuditVerifier}). One writer thread appends in the order
 * records arrive and writes what queued up meanwhile in one system call; {@link #append} completes,
 * on the caller's context, once its line is in the file: the pipeline sends a response only after
 * that. At open, the chain continues from the file's last line; a torn last line (a crash mid-write)
 * is cut off and the cut recorded.
 */
public final class AuditLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
    static final ObjectMapper JSON = new ObjectMapper().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
    static final String GENESIS = "0".repeat(64);

    private record Pending(Map<String, Object> fields, Promise<Void> promise, Context context) {
    }

    private static final Pending STOP = new Pending(Map.of(), null, null);

    private final Path file;
    private final FileChannel channel;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread writer;
    private final MessageDigest sha256;
    private volatile boolean closed;
    private long seq;
    private String prev;

    private AuditLog(Path file, FileChannel channel, long seq, String prev) throws NoSuchAlgorithmException {
        this.file = file;
        this.channel = channel;
        this.seq = seq;
        this.prev = prev;
        this.sha256 = MessageDigest.getInstance("SHA-256");
        this.writer = new Thread(this::run, "dockgate-audit");
        this.writer.setDaemon(true);
    }

    /** Opens (or creates, mode 0600) the log and continues its chain. */
    public static AuditLog open(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        if (!Files.exists(file)) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        long seq = 0;
        String prev = GENESIS;
        long torn = 0;
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            long length = raf.length();
            long end = length;
            // the chain continues from the last complete line; a torn tail is cut
            long pos = lastNewline(raf, length - 1);
            if (pos < length - 1) {
                torn = length - 1 - pos;
                end = pos + 1;
                raf.setLength(end);
            }
            if (end > 0) {
                long start = lastNewline(raf, end - 2);
                byte[] last = new byte[(int) (end - 1 - (start + 1))];
                raf.seek(start + 1);
                raf.readFully(last);
                seq = JSON.readTree(last).path("seq").asLong();
                prev = hex(last);
            }
        }
        FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        AuditLog log;
        try {
            log = new AuditLog(file, channel, seq, prev);
        } catch (NoSuchAlgorithmException e) {
            channel.close();
            throw new IOException(e);
        }
        log.writer.start();
        if (torn > 0) {
            LOG.warn("audit log {}: cut a torn last line of {} bytes (a crash while writing)", file, torn);
            Map<String, Object> note = new LinkedHashMap<>();
            note.put("type", "recovery");
            note.put("tornBytes", torn);
            log.record(note);
        }
        return log;
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

    public Path file() {
        return file;
    }

    /** Appends a record; the future completes on the caller's Vert.x context once the line is written. */
    public Future<Void> append(Map<String, Object> fields) {
        Context context = Vertx.currentContext();
        Promise<Void> promise = Promise.promise();
        if (closed) {
            promise.fail(new IOException("audit log closed"));
            return promise.future();
        }
        queue.add(new Pending(fields, promise, context));
        return promise.future();
    }

    /** Appends without waiting (records from threads outside Vert.x: refused handshakes). */
    public void record(Map<String, Object> fields) {
        if (!closed) {
            queue.add(new Pending(fields, null, null));
        }
    }

    private void run() {
        List<Pending> batch = new ArrayList<>();
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        while (true) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                continue;
            }
            queue.drainTo(batch);
            boolean last = batch.remove(STOP);
            out.reset();
            Throwable failure = null;
            try {
                for (Pending p : batch) {
                    byte[] line = line(p.fields());
                    out.write(line);
                    out.write('\n');
                    prev = HexFormat.of().formatHex(sha256.digest(line));
                }
                ByteBuffer buffer = ByteBuffer.wrap(out.toByteArray());
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
            } catch (IOException | RuntimeException e) {
                failure = e;
                LOG.error("audit log {}: write failed: {}", file, e.toString());
            }
            // one task per event loop completes all of its waiting requests
            Throwable f = failure;
            java.util.Map<Context, List<Promise<Void>>> byContext = new java.util.IdentityHashMap<>();
            for (Pending p : batch) {
                if (p.promise() == null) {
                    continue;
                }
                if (p.context() == null) {
                    complete(p.promise(), f);
                } else {
                    byContext.computeIfAbsent(p.context(), k -> new ArrayList<>()).add(p.promise());
                }
            }
            byContext.forEach((context, promises) -> context.runOnContext(v -> promises.forEach(pr -> complete(pr, f))));
            batch.clear();
            if (last) {
                return;
            }
        }
    }

    private static void complete(Promise<Void> promise, Throwable failure) {
        if (failure == null) {
            promise.tryComplete();
        } else {
            promise.tryFail(failure);
        }
    }

    private byte[] line(Map<String, Object> fields) throws IOException {
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("seq", ++seq);
        record.put("prev", prev);
        record.putAll(fields);
        return JSON.writeValueAsBytes(record);
    }

    static String hex(byte[] line) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(line));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes what is queued and closes the file. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        queue.add(STOP);
        try {
            writer.join(5000);
            channel.force(false);
            channel.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            LOG.warn("audit log {}: close failed: {}", file, e.toString());
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
