package io.dockgate.engine.fs;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * An input stream that hands every byte read to {@link #seen} (a digest, a copy) and counts them, so that
 * a tar reader above it can be followed byte for byte; skip reads (the bytes are seen too), mark is not
 * supported, and {@link #drain} reads what the reader above leaves (a tar's end blocks).
 */
public abstract class ObservedInput extends FilterInputStream {
    private long count;

    protected ObservedInput(InputStream in) {
        super(in);
    }

    /** Called with each run of bytes read, after the count includes them. */
    protected abstract void seen(byte[] b, int off, int n) throws IOException;

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            count += n;
            seen(b, off, n);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buffer = new byte[8192];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    /** Bytes read so far. */
    public long count() {
        return count;
    }

    /** Reads the rest of the stream (seen like the rest). */
    public void drain() throws IOException {
        byte[] buffer = new byte[65536];
        while (read(buffer, 0, buffer.length) >= 0) {
            // seen
        }
    }
}
