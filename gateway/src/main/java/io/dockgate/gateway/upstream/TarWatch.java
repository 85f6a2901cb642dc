package io.dockgate.gateway.upstream;

import io.dockgate.engine.EngineException;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Reads an image archive's tar as it streams past, without holding it: entry headers are parsed as Go's
 * archive/tar (which the upstream's load uses) reads them (ustar prefixes, PAX {@code path} and
 * {@code size} records, GNU long names, no data for header-only types), and the files that name the
 * archive's images ({@code manifest.json}, {@code repositories}, {@code index.json} at its root) are
 * kept. {@link #feed} says how much of each piece may go on: everything before the end-of-archive marker,
 * which is held back until the names are judged (the upstream loads nothing before it sees the marker
 * or the body's end, both of which this daemon controls). What it cannot read as Go would (a bad
 * checksum, a compressed archive, a sparse or unknown entry type, such a file as a link) is refused.
 */
final class TarWatch {
    static final Set<String> NAMING = Set.of("manifest.json", "repositories", "index.json");
    private static final int BLOCK = 512;
    private static final int MAX_KEPT = 4 << 20;

    private final byte[] header = new byte[BLOCK];
    private int headerFill;
    /** Data (and padding) of the current entry still to pass. */
    private long remaining;
    /** Of it, the data bytes (what is kept when the entry is watched). */
    private long dataLeft;
    private ByteArrayOutputStream keeping;
    private char keptType;
    private String keptName;
    private String paxPath;
    private Long paxSize;
    private String longName;
    private boolean ended;
    private final Map<String, byte[]> kept = new LinkedHashMap<>();

    /** Whether the end-of-archive marker was reached. */
    boolean ended() {
        return ended;
    }

    /**
     * The body ended: refused unless it ended at the marker or between entries (a body that breaks off
     * inside a header or an entry is not what this daemon read: a compressed archive shorter than a block).
     */
    void finish() {
        if (!ended && (headerFill != 0 || remaining != 0)) {
            throw refuse("it ends inside an entry");
        }
    }

    /** The naming files seen (the last of each name, as untar leaves it). */
    Map<String, byte[]> naming() {
        return kept;
    }

    /**
     * Reads a piece; returns how many of its first bytes may go on: all of it until the marker's block,
     * nothing after (a marker block begun in an earlier piece is held from this piece's start: less than a
     * block of it went on, which a tar reader cannot take for a marker).
     */
    int feed(Buffer piece) {
        if (ended) {
            return 0;
        }
        int n = piece.length();
        int i = 0;
        while (i < n) {
            if (remaining > 0) {
                int take = (int) Math.min(remaining, n - i);
                int data = (int) Math.min(dataLeft, take);
                if (keeping != null && data > 0) {
                    keeping.write(piece.getBytes(i, i + data), 0, data);
                }
                dataLeft -= data;
                remaining -= take;
                i += take;
                if (remaining == 0) {
                    finishEntry();
                }
                continue;
            }
            int take = Math.min(BLOCK - headerFill, n - i);
            piece.getBytes(i, i + take, header, headerFill);
            headerFill += take;
            i += take;
            if (headerFill == BLOCK) {
                headerFill = 0;
                if (isZero(header)) {
                    ended = true;
                    return Math.max(0, i - BLOCK);
                }
                header();
            }
        }
        return n;
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private static EngineException refuse(String why) {
        return EngineException.invalid("cannot read the archive as the upstream would (" + why
                + "); a load by a caller with its own images is read by dockgate first: send an uncompressed tar (docker save)");
    }

    private boolean first = true;

    /**
     * Whether a stream begins as one the upstream decompresses (moby's DetectCompression: bzip2, gzip, xz,
     * zstd and its skippable frames): such a stream is read there as what it decompresses to, whatever it
     * reads as here (a gzip header's extra field can hold a whole tar).
     */
    static boolean compressedMagic(byte[] b) {
        return b[0] == 'B' && b[1] == 'Z' && b[2] == 'h'
                || (b[0] & 0xff) == 0x1f && (b[1] & 0xff) == 0x8b && b[2] == 8
                || (b[0] & 0xff) == 0xfd && b[1] == '7' && b[2] == 'z' && b[3] == 'X' && b[4] == 'Z' && b[5] == 0
                || b[0] == 0x28 && (b[1] & 0xff) == 0xb5 && b[2] == 0x2f && (b[3] & 0xff) == 0xfd
                || (b[0] & 0xf0) == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18;
    }

    private void header() {
        if (first) {
            first = false;
            if (compressedMagic(header)) {
                throw refuse("a compressed archive");
            }
        }
        long sum = 0;
        for (int k = 0; k < BLOCK; k++) {
            sum += (k >= 148 && k < 156) ? ' ' : (header[k] & 0xff);
        }
        long recorded;
        try {
            recorded = octal(header, 148, 8);
        } catch (RuntimeException e) {
            throw refuse("a header without a valid checksum");
        }
        if (recorded != sum) {
            throw refuse("a header checksum that does not match; a compressed archive");
        }
        char type = (char) (header[156] & 0xff);
        long ownSize = number(header, 124, 12);
        switch (type) {
            case 'x' -> {
                paxPath = null; // a later extended header replaces an earlier one, as Go reads them
                paxSize = null;
                startKeeping('x', null, ownSize);
            }
            case 'L' -> startKeeping('L', null, ownSize);
            case 'K' -> skip(ownSize);
            case 'g' -> { // returned by Go as an entry of its own (ignored by untar): what was pending is dropped
                paxPath = null;
                paxSize = null;
                longName = null;
                skip(ownSize);
            }
            case '0', '\0', '7', '1', '2', '3', '4', '5', '6' -> {
                String name = longName != null ? longName : paxPath != null ? paxPath : ustarName();
                long size = paxSize != null ? paxSize : ownSize;
                paxPath = null;
                paxSize = null;
                longName = null;
                boolean directory = type == '5' || type == '\0' && name.endsWith("/"); // Go: an old-style file named x/ is a directory
                boolean headerOnly = directory || type == '1' || type == '2' || type == '3' || type == '4' || type == '6';
                String clean = clean(name);
                if (NAMING.contains(clean)) {
                    if (headerOnly) {
                        throw refuse(clean + " as a link, directory or device");
                    }
                    startKeeping('f', clean, size);
                } else {
                    skip(headerOnly ? 0 : size);
                }
            }
            default -> throw refuse("an entry of type '" + type + "'");
        }
    }

    private void skip(long size) {
        if (size < 0) {
            throw refuse("a negative size");
        }
        dataLeft = size;
        remaining = (size + BLOCK - 1) / BLOCK * BLOCK;
        keeping = null;
        if (remaining == 0) {
            finishEntry();
        }
    }

    private void startKeeping(char type, String name, long size) {
        if (size < 0 || size > MAX_KEPT) {
            throw refuse("a " + (name != null ? name : "header extension") + " of " + size + " bytes");
        }
        keptType = type;
        keptName = name;
        keeping = new ByteArrayOutputStream((int) size);
        dataLeft = size;
        remaining = (size + BLOCK - 1) / BLOCK * BLOCK;
        if (remaining == 0) {
            finishEntry();
        }
    }

    private void finishEntry() {
        if (keeping == null) {
            return;
        }
        byte[] data = keeping.toByteArray();
        keeping = null;
        switch (keptType) {
            case 'x' -> pax(data);
            case 'L' -> {
                String s = new String(data, StandardCharsets.UTF_8);
                int nul = s.indexOf('\0');
                longName = nul >= 0 ? s.substring(0, nul) : s;
            }
            default -> kept.put(keptName, data);
        }
    }

    /** PAX records ("%d %s=%s\n", the length in bytes): the path and size Go takes from them. */
    private void pax(byte[] data) {
        int i = 0;
        while (i < data.length) {
            int space = i;
            while (space < data.length && data[space] != ' ') {
                space++;
            }
            int length;
            try {
                length = Integer.parseInt(new String(data, i, space - i, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw refuse("a malformed PAX header");
            }
            if (space >= data.length || length <= space - i + 1 || i + length > data.length || data[i + length - 1] != '\n') {
                throw refuse("a malformed PAX header");
            }
            String kv = new String(data, space + 1, i + length - 1 - (space + 1), StandardCharsets.UTF_8);
            i += length;
            int eq = kv.indexOf('=');
            if (eq < 0) {
                throw refuse("a malformed PAX header");
            }
            String key = kv.substring(0, eq);
            String value = kv.substring(eq + 1);
            if (key.equals("path")) {
                paxPath = value;
            } else if (key.equals("size")) {
                try {
                    paxSize = Long.parseLong(value);
                } catch (NumberFormatException e) {
                    throw refuse("a malformed PAX size");
                }
            } else if (key.startsWith("GNU.sparse")) {
                throw refuse("a sparse file");
            }
        }
    }

    private String ustarName() {
        String name = text(header, 0, 100);
        boolean ustar = header[257] == 'u' && header[258] == 's' && header[259] == 't' && header[260] == 'a' && header[261] == 'r';
        if (ustar && header[262] == 0) { // POSIX ustar ("ustar\0"), not GNU ("ustar  "): the prefix field counts
            String prefix = text(header, 345, 155);
            if (!prefix.isEmpty()) {
                return prefix + "/" + name;
            }
        }
        return name;
    }

    private static String text(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    /** A numeric field: octal, or GNU's base-256 (the high bit of its first byte set). */
    private static long number(byte[] b, int off, int len) {
        if ((b[off] & 0x80) != 0) {
            long v = b[off] & 0x7f;
            for (int k = 1; k < len; k++) {
                if ((v >>> 55) != 0) {
                    throw refuse("a size out of range");
                }
                v = (v << 8) | (b[off + k] & 0xff);
            }
            return v;
        }
        return octal(b, off, len);
    }

    private static long octal(byte[] b, int off, int len) {
        String s = new String(b, off, len, StandardCharsets.US_ASCII).replace('\0', ' ').trim();
        if (s.isEmpty()) {
            return 0;
        }
        try {
            return Long.parseLong(s, 8);
        } catch (NumberFormatException e) {
            throw refuse("a numeric field that is not octal");
        }
    }

    /** A name as untar places it: relative, {@code .} and {@code ..} resolved lexically (as filepath.Clean). */
    static String clean(String raw) {
        java.util.ArrayDeque<String> parts = new java.util.ArrayDeque<>();
        for (String p : raw.split("/")) {
            if (p.isEmpty() || p.equals(".")) {
                continue;
            }
            if (p.equals("..")) {
                parts.pollLast();
            } else {
                parts.addLast(p);
            }
        }
        return String.join("/", parts);
    }
}
