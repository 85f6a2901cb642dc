package io.dockgate.engine.image;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Reconstructs a layer's tar stream byte for byte from its unpacked directory, as Docker's tar-split
 * does: while a layer is unpacked, every byte that is not file content (headers, PAX records, padding,
 * end blocks) is recorded, and file contents are recorded as references to the unpacked files. Replaying
 * gives back the exact tar whose SHA-256 is the layer's DiffID, so {@code docker save} archives verify.
 * Format (gzip): records {@code 'R' len bytes} and {@code 'F' path size}, ending with {@code 'E'}.
 */
public final class TarSplit {
    private TarSplit() {
    }

    /**
     * The stream a tar reader reads from while it unpacks: digests and counts every byte and records the
     * non-content ones. Switch to content mode around each file's content.
     */
    public static final class Recorder extends io.dockgate.engine.fs.ObservedInput {
        private final GZIPOutputStream gzip;
        private final DataOutputStream out;
        private final MessageDigest digest;
        private final ByteArrayOutputStream raw = new ByteArrayOutputStream(8192);
        private final long limit;
        private boolean content;

        public Recorder(InputStream in, OutputStream splitFile, long limit) throws IOException {
            this(in, splitFile, limit, true);
        }

        /** Without the digest (a tree that is not a layer: a build context): no DiffID, a null one from finish. */
        public Recorder(InputStream in, OutputStream splitFile, long limit, boolean digesting) throws IOException {
            super(in);
            this.digest = digesting ? Digest.sha256() : null;
            this.gzip = new GZIPOutputStream(splitFile, 65536);
            this.out = new DataOutputStream(gzip);
            this.limit = limit;
        }

        @Override
        protected void seen(byte[] b, int off, int n) throws IOException {
            if (count() > limit) {
                throw new LayerTooLargeException(limit);
            }
            if (digest != null) {
                digest.update(b, off, n);
            }
            if (!content) {
                raw.write(b, off, n);
                if (raw.size() >= 1 << 20) {
                    flushRaw();
                }
            }
        }

        /** The next bytes read are the content of the file at path (relative), size bytes long. */
        public void beginContent(String path, long size) throws IOException {
            flushRaw();
            out.writeByte('F');
            out.writeUTF(path);
            out.writeLong(size);
            content = true;
        }

        public void endContent() {
            content = false;
        }

        private void flushRaw() throws IOException {
            if (raw.size() > 0) {
                out.writeByte('R');
                out.writeInt(raw.size());
                raw.writeTo(out);
                raw.reset();
            }
        }

        /** Ends the recording; the digest is the DiffID of everything read. */
        public Digest finish() throws IOException {
            flushRaw();
            out.writeByte('E');
            out.flush();
            gzip.finish();
            return digest == null ? null : Digest.of(digest);
        }

        @Override
        public void close() throws IOException {
            out.close();
            super.close();
        }
    }

    /** Thrown when a layer decompresses to more than the configured cap. */
    public static final class LayerTooLargeException extends IOException {
        LayerTooLargeException(long limit) {
            super("layer exceeds the limit of " + limit + " uncompressed bytes");
        }
    }

    /**
     * Writes the layer's tar to out and returns the SHA-256 of what was written (the caller compares it
     * with the DiffID).
     */
    public static Digest replay(Path splitFile, Path layerRoot, OutputStream target) throws IOException {
        MessageDigest digest = Digest.sha256();
        OutputStream out = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                target.write(b);
                digest.update((byte) b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                target.write(b, off, len);
                digest.update(b, off, len);
            }
        };
        try (DataInputStream in = new DataInputStream(new GZIPInputStream(Files.newInputStream(splitFile), 65536))) {
            byte[] buffer = new byte[65536];
            while (true) {
                int type = in.readByte();
                if (type == 'E') {
                    break;
                }
                if (type == 'R') {
                    int len = in.readInt();
                    while (len > 0) {
                        int n = in.read(buffer, 0, Math.min(buffer.length, len));
                        if (n < 0) {
                            throw new EOFException("truncated tar-split record in " + splitFile);
                        }
                        out.write(buffer, 0, n);
                        len -= n;
                    }
                } else if (type == 'F') {
                    String path = in.readUTF();
                    long size = in.readLong();
                    Path file = layerRoot.resolve(path);
                    if (Files.isSymbolicLink(file) || !file.normalize().startsWith(layerRoot)) {
                        throw new IOException("tar-split refers to an unsafe path " + path);
                    }
                    try (InputStream content = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                        long left = size;
                        while (left > 0) {
                            int n = content.read(buffer, 0, (int) Math.min(buffer.length, left));
                            if (n < 0) {
                                throw new EOFException(file + " is shorter than its recorded " + size + " bytes");
                            }
                            out.write(buffer, 0, n);
                            left -= n;
                        }
                    }
                } else {
                    throw new IOException("corrupt tar-split file " + splitFile);
                }
            }
        }
        return Digest.of(digest);
    }
}
