package io.dockgate.engine.container;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads conmon's k8s-file logs ({@code <RFC3339Nano> stdout|stderr F|P <text>}): whole entries, with
 * partial (P) lines joined to the line that completes them, from a byte offset so that a follower can
 * continue where it stopped. A file shorter than the offset was rotated and is read from the start.
 * A partial line at the end is held back while the process may still complete it; once the log is
 * complete (the process exited), it is an entry of its own without a newline, as dockerd keeps it.
 */
public final class LogReader {
    /** One log entry; text ends with a newline unless the process ended mid-line. */
    public record Entry(Instant time, boolean stderr, String text) {
    }

    /** Entries read and the offset after the last complete line. */
    public record Chunk(List<Entry> entries, long offset) {
    }

    private LogReader() {
    }

    /**
     * Entries from the offset on. A file shorter than the offset was rotated: the rest of the rotated
     * file ({@code log.1}) comes first, then the new file from its start.
     */
    public static Chunk read(Path log, long offset, boolean complete) throws IOException {
        if (Files.exists(log) && offset > Files.size(log)) {
            Chunk tail = readFile(LogRotation.rotated(log, 1), offset, true);
            Chunk fresh = readFile(log, 0, complete);
            List<Entry> all = new ArrayList<>(tail.entries());
            all.addAll(fresh.entries());
            return new Chunk(all, fresh.offset());
        }
        return readFile(log, offset, complete);
    }

    /** Every entry: the rotated files, oldest first, then the current one ({@code complete}: no writer any more). */
    public static List<Entry> readAll(Path log, boolean complete) throws IOException {
        List<Entry> all = readRotated(log);
        all.addAll(readWhole(log, complete));
        return all;
    }

    /** The entries of the rotated files ({@code log.N} ... {@code log.1}), oldest first. */
    public static List<Entry> readRotated(Path log) throws IOException {
        List<Entry> all = new ArrayList<>();
        for (int n = 64; n >= 1; n--) {
            Path old = LogRotation.rotated(log, n);
            if (Files.exists(old)) {
                all.addAll(readWhole(old, true));
            }
        }
        return all;
    }

    private static List<Entry> readWhole(Path file, boolean complete) throws IOException {
        List<Entry> all = new ArrayList<>();
        long offset = 0;
        while (true) {
            Chunk c = readFile(file, offset, complete);
            all.addAll(c.entries());
            if (c.offset() == offset) {
                return all;
            }
            offset = c.offset();
        }
    }

    private static Chunk readFile(Path log, long offset, boolean complete) throws IOException {
        List<Entry> entries = new ArrayList<>();
        if (!Files.exists(log)) {
            return new Chunk(entries, 0);
        }
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            long length = file.length();
            long start = offset > length ? 0 : offset;
            if (start == length) {
                return new Chunk(entries, start);
            }
            byte[] bytes = new byte[(int) Math.min(length - start, 8 << 20)];
            file.seek(start);
            file.readFully(bytes);
            int lineStart = 0;
            StringBuilder partial = new StringBuilder();
            String partialTime = "";
            boolean partialStderr = false;
            long consumed = start;
            for (int i = 0; i < bytes.length; i++) {
                if (bytes[i] != '\n') {
                    continue;
                }
                String line = new String(bytes, lineStart, i - lineStart, StandardCharsets.UTF_8);
                lineStart = i + 1;
                String[] f = line.split(" ", 4);
                if (f.length < 3) {
                    consumed = start + lineStart;
                    continue;
                }
                String text = f.length == 4 ? f[3] : "";
                if (f[2].equals("P")) {
                    partial.append(text);
                    partialTime = f[0];
                    partialStderr = f[1].equals("stderr");
                    continue;
                }
                partial.append(text).append('\n');
                entries.add(new Entry(time(f[0]), f[1].equals("stderr"), partial.toString()));
                partial.setLength(0);
                consumed = start + lineStart;
            }
            boolean wholeFile = start + bytes.length == length;
            if (complete && wholeFile && partial.length() > 0) {
                entries.add(new Entry(time(partialTime), partialStderr, partial.toString()));
                consumed = start + lineStart;
            }
            return new Chunk(entries, consumed);
        }
    }

    private static Instant time(String text) {
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (RuntimeException e) {
            return Instant.EPOCH;
        }
    }
}
