package io.dockgate.engine.fs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;

/**
 * A stream written by a thread of its own and read by the caller (a layer tar made from a writable
 * layer while the image store applies it), so that nothing goes through a file. A failure of the writer
 * reaches the reader as an IOException at the point where the data ends, never as a short but clean
 * end of stream; closing the reader early stops the writer.
 */
public final class Pipes {
    private static final int BUFFER = 1 << 20;

    /** What writes the stream. */
    public interface Writer {
        void writeTo(OutputStream out) throws IOException;
    }

    private Pipes() {
    }

    public static InputStream stream(String name, Writer writer) throws IOException {
        FailingInput in = new FailingInput();
        PipedOutputStream out = new PipedOutputStream(in);
        Thread t = new Thread(() -> {
            try {
                writer.writeTo(out);
            } catch (IOException | RuntimeException e) {
                in.failure = e; // set before the close below: the reader meets it where the data ends
            } finally {
                try {
                    out.close();
                } catch (IOException e) {
                    // the reader went away
                }
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return in;
    }

    private static final class FailingInput extends PipedInputStream {
        volatile Exception failure;

        FailingInput() {
            super(BUFFER);
        }

        @Override
        public synchronized int read() throws IOException {
            int b = super.read();
            if (b < 0) {
                check();
            }
            return b;
        }

        @Override
        public synchronized int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n < 0) {
                check();
            }
            return n;
        }

        private void check() throws IOException {
            Exception e = failure;
            if (e != null) {
                throw new IOException("the stream's writer failed: " + e.getMessage(), e);
            }
        }
    }
}
