package io.dockgate.engine.image;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bounded pipe between one writing thread and one reading thread (a blob compressed on one, sent by the
 * HTTP client on another), in chunks: at most {@code QUEUED} chunks of {@code CHUNK} bytes wait. Either
 * side may fail the pipe; the other then fails at its next call instead of waiting for ever.
 */
final class ChunkPipe {
    private static final int CHUNK = 64 * 1024;
    private static final int QUEUED = 16;
    private static final byte[] END = new byte[0];

    private final BlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(QUEUED);
    private volatile IOException failure;

    /** Stops both sides: the reader sees this failure, the writer too. */
    void fail(IOException e) {
        failure = e;
        queue.clear();
        queue.offer(END);
    }

    private void check() throws IOException {
        IOException f = failure;
        if (f != null) {
            throw new IOException(f.getMessage(), f);
        }
    }

    final OutputStream out = new OutputStream() {
        private byte[] buf = new byte[CHUNK];
        private int n;
        private boolean closed;

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                int take = Math.min(len, CHUNK - n);
                System.arraycopy(b, off, buf, n, take);
                n += take;
                off += take;
                len -= take;
                if (n == CHUNK) {
                    put(buf);
                    buf = new byte[CHUNK];
                    n = 0;
                }
            }
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            if (n > 0) {
                put(Arrays.copyOf(buf, n));
            }
            put(END);
        }

        private void put(byte[] chunk) throws IOException {
            try {
                while (!queue.offer(chunk, 100, TimeUnit.MILLISECONDS)) {
                    check();
                }
                check();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted");
            }
        }
    };

    final InputStream in = new InputStream() {
        private byte[] chunk;
        private int pos;
        private boolean ended;

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (ended) {
                return -1;
            }
            while (chunk == null || pos == chunk.length) {
                try {
                    chunk = queue.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted");
                }
                pos = 0;
                check();
                if (chunk == END) {
                    ended = true;
                    return -1;
                }
            }
            int take = Math.min(len, chunk.length - pos);
            System.arraycopy(chunk, pos, b, off, take);
            pos += take;
            return take;
        }

        @Override
        public void close() {
            if (!ended) {
                fail(new IOException("the upload stopped reading"));
            }
        }
    };
}
