package io.dockgate.gateway.audit;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Future;
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tamper-evident audit log: one JSON line per record, each carrying its sequence number and the
 * SHA-256 of the line before it ({@code prev}; 64 zeros for the first), so that an edited, removed or
 * reordered line breaks the chain ({@link AuditVerifier}). Records are written on the caller's thread
 * to the page cache, as nginx writes its access log from its event loop: a record is serialised outside
 * the lock, and only numbering, hashing and the write are serialised. {@link #append} (a decision)
 * returns a completed future once its line is in the file, so the pipeline acts only after that, without
 * a hop to another thread and back; {@link #record} (an outcome) takes its place in the chain at once and
 * goes out with the next decision, so that a request costs one {@code write}. At open, the chain
 * continues from the file's last line; a torn last line (a crash mid-write) is cut off ({@link AuditFile})
 * and the cut recorded. Records are typed ({@link AuditRecord}), one kind per thing the log tells.
 */
public final class AuditLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
    static final ObjectMapper JSON = new ObjectMapper().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
    static final String GENESIS = "0".repeat(64);
    private static final byte[] SEQ = utf8("{\"seq\":");
    private static final byte[] PREV = utf8(",\"prev\":\"");
    private static final long FLUSH_MS = 20;
    private static final int MAX_PENDING = 64 * 1024;
    /** Writes records nobody waits for when no awaited record took them along. */
    private static final ScheduledExecutorService FLUSHER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "dockgate-audit-flush");
        t.setDaemon(true);
        return t;
    });

    private final AuditFile file;
    private final MessageDigest sha256;
    private final ReentrantLock lock = new ReentrantLock();
    /** Chained lines not written yet (records nobody waits for). */
    private final Lines pending = new Lines();
    private boolean flushScheduled;
    private volatile boolean closed;
    private long seq;
    private byte[] prev;
    private long writtenSeq;
    private byte[] writtenPrev;

    /** A byte buffer whose array the digest and the write read in place. */
    private static final class Lines extends ByteArrayOutputStream {
        /** A per-thread buffer that grew past this goes back to this size after use. */
        private static final int KEEP = 8192;

        Lines() {
            super(1024);
        }

        byte[] array() {
            return buf;
        }

        /** A non-negative number in decimal, without a String. */
        void writeAscii(long n) {
            if (n >= 10) {
                writeAscii(n / 10);
            }
            write((int) ('0' + n % 10));
        }

        /** Empties the buffer, and lets go of an array an unusually large record grew. */
        void release() {
            reset();
            if (buf.length > KEEP) {
                buf = new byte[1024];
            }
        }
    }

    /** Each thread serialises its records into a buffer of its own, reused: no per-record arrays. */
    private static final ThreadLocal<Lines> SCRATCH = ThreadLocal.withInitial(Lines::new);

    private AuditLog(AuditFile file, long seq, String prev) throws NoSuchAlgorithmException {
        this.file = file;
        this.seq = seq;
        this.prev = utf8(prev);
        this.writtenSeq = seq;
        this.writtenPrev = this.prev;
        this.sha256 = MessageDigest.getInstance("SHA-256");
    }

    /** Opens (or creates, mode 0600) the log and continues its chain. */
    public static AuditLog open(Path path) throws IOException {
        AuditFile.Tail[] tail = new AuditFile.Tail[1];
        AuditFile file = AuditFile.open(path, t -> tail[0] = t);
        long seq = 0;
        String prev = GENESIS;
        if (tail[0].lastLine() != null) {
            seq = JSON.readTree(tail[0].lastLine()).path("seq").asLong();
            prev = hex(tail[0].lastLine());
        }
        AuditLog log;
        try {
            log = new AuditLog(file, seq, prev);
        } catch (NoSuchAlgorithmException e) {
            file.close();
            throw new IOException(e);
        }
        if (tail[0].tornBytes() > 0) {
            LOG.warn("audit log {}: cut a torn last line of {} bytes (a crash while writing)", path, tail[0].tornBytes());
            log.record(new AuditRecord.Recovery(tail[0].tornBytes()));
        }
        return log;
    }

    /**
     * Reopens the log's path (SIGHUP): after the file was moved away (rotation), the chain goes on in a
     * new file, whose first record follows the old file's last one ({@code dockgate audit verify OLD NEW});
     * if it was not moved, appending simply goes on. Records waiting are written to the old file first,
     * which is synced before it is closed. On failure the old file stays in use.
     */
    public void reopen() throws IOException {
        FileOutputStream old;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            flush();
            old = file.reopen();
        } finally {
            lock.unlock();
        }
        // outside the lock: request threads append to the new file while the old one is synced
        try (old) {
            old.getChannel().force(false);
        }
    }

    public Path file() {
        return file.path();
    }

    /**
     * Appends a record and writes it, with any records waiting, before returning: the returned future is
     * complete, succeeded once the line is in the file, or failed.
     */
    public Future<Void> append(AuditRecord record) {
        try {
            write(record, true);
            return Future.succeededFuture();
        } catch (IOException | RuntimeException e) {
            return Future.failedFuture(e);
        }
    }

    /**
     * Appends a record nobody waits for (an outcome, a refused handshake, a reload): it takes its place in
     * the chain at once and reaches the file with the next awaited record or within {@value #FLUSH_MS} ms,
     * so that a request usually costs one write. A failure is logged.
     */
    public void record(AuditRecord record) {
        if (closed) {
            return; // outcomes of requests that end while the daemon stops, after the log's last write
        }
        try {
            write(record, false);
        } catch (IOException | RuntimeException e) {
            LOG.error("audit log {}: record lost: {}", file.path(), e.toString());
        }
    }

    private void write(AuditRecord record, boolean now) throws IOException {
        if (closed) {
            throw new IOException("audit log closed");
        }
        Lines body = SCRATCH.get();
        try {
            serialize(record, body); // "{...}", outside the lock, into this thread's buffer
            chain(body, now);
        } finally {
            body.release();
        }
    }

    /** Numbers, links and queues (or writes) a serialised record. */
    private void chain(Lines body, boolean now) throws IOException {
        lock.lock();
        try {
            if (closed) {
                throw new IOException("audit log closed");
            }
            long next = seq + 1;
            int start = pending.size();
            pending.write(SEQ);
            pending.writeAscii(next);
            pending.write(PREV);
            pending.write(prev);
            pending.write('"');
            if (body.size() > 2) {
                pending.write(',');
            }
            pending.write(body.array(), 1, body.size() - 1);
            sha256.update(pending.array(), start, pending.size() - start);
            pending.write('\n');
            seq = next;
            prev = hexBytes(sha256.digest());
            if (now || pending.size() >= MAX_PENDING) {
                flush();
            } else if (!flushScheduled) {
                flushScheduled = true;
                FLUSHER.schedule(this::flushLater, FLUSH_MS, TimeUnit.MILLISECONDS);
            }
        } finally {
            lock.unlock();
        }
    }

    private void flushLater() {
        lock.lock();
        try {
            flushScheduled = false;
            if (!closed) {
                flush();
            }
        } catch (IOException | RuntimeException e) {
            // logged by flush
        } finally {
            lock.unlock();
        }
    }

    /**
     * Writes the waiting lines (under the lock). On failure the file is cut back to its last complete
     * line and the chain to the last record written: the lost records are logged, the chain stays whole.
     */
    private void flush() throws IOException {
        if (pending.size() == 0) {
            return;
        }
        try {
            file.write(pending.array(), pending.size());
            writtenSeq = seq;
            writtenPrev = prev;
        } catch (IOException | RuntimeException e) {
            LOG.error("audit log {}: write failed, records {} to {} lost: {}", file.path(), writtenSeq + 1, seq, e.toString());
            seq = writtenSeq;
            prev = writtenPrev;
            throw e;
        } finally {
            pending.reset();
        }
    }

    /** A record as one JSON object, through Jackson's streaming generator (no tree, no serializer lookup). */
    static byte[] serialize(AuditRecord record) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        serialize(record, out);
        return out.toByteArray();
    }

    private static void serialize(AuditRecord record, ByteArrayOutputStream out) throws IOException {
        try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
            g.writeStartObject();
            record.write(g);
            g.writeEndObject();
        }
    }

    /** The current time as {@link Instant#toString()} writes it, with the second's text cached per thread. */
    public static String now() {
        Instant t = Instant.now();
        Second cached = SECOND.get();
        if (cached.epochSecond != t.getEpochSecond()) {
            String text = Instant.ofEpochSecond(t.getEpochSecond()).toString();
            cached.epochSecond = t.getEpochSecond();
            cached.text = text.substring(0, text.length() - 1); // without the Z
        }
        int nano = t.getNano();
        if (nano == 0) {
            return cached.text + "Z";
        }
        StringBuilder sb = new StringBuilder(cached.text.length() + 11).append(cached.text).append('.');
        int digits;
        int value;
        if (nano % 1_000_000 == 0) {
            digits = 3;
            value = nano / 1_000_000;
        } else if (nano % 1000 == 0) {
            digits = 6;
            value = nano / 1000;
        } else {
            digits = 9;
            value = nano;
        }
        String v = Integer.toString(value);
        for (int i = v.length(); i < digits; i++) {
            sb.append('0');
        }
        return sb.append(v).append('Z').toString();
    }

    private static final class Second {
        long epochSecond = Long.MIN_VALUE;
        String text;
    }

    private static final ThreadLocal<Second> SECOND = ThreadLocal.withInitial(Second::new);

    private static final byte[] HEX_DIGITS = utf8("0123456789abcdef");

    /** A digest as lower-case hex, in ASCII bytes. */
    private static byte[] hexBytes(byte[] digest) {
        byte[] hex = new byte[digest.length * 2];
        for (int i = 0; i < digest.length; i++) {
            hex[2 * i] = HEX_DIGITS[(digest[i] >> 4) & 0xf];
            hex[2 * i + 1] = HEX_DIGITS[digest[i] & 0xf];
        }
        return hex;
    }

    static String hex(byte[] line) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(line));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Flushes and closes the file; later records fail. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            try {
                flush();
            } catch (IOException | RuntimeException e) {
                // logged by flush
            }
            file.close();
        } catch (IOException e) {
            LOG.warn("audit log {}: close failed: {}", file.path(), e.toString());
        } finally {
            lock.unlock();
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
