package io.dockgate.gateway.stream;

import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A request body as a blocking InputStream for worker threads (tar parsing), with back-pressure: the
 * request is paused while more than {@value #HIGH_WATER} bytes wait and resumed below
 * {@value #LOW_WATER}. Chunked bodies and bodies without Content-Length read alike. Closing it before
 * the end discards the rest, so the connection stays usable.
 */
public final class RequestBodyStream extends InputStream {
    /** How a failure of the client's connection while reading the body begins. */
    public static final String FAILED = "request body failed: ";

    private static final int HIGH_WATER = 4 << 20;
    private static final int LOW_WATER = 1 << 20;
    private static final Object END = new Object();

    private final HttpServerRequest request;
    private final Context context;
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final AtomicLong queued = new AtomicLong();
    private volatile boolean paused;
    private volatile boolean discarding;
    private Buffer current;
    private int position;
    private boolean ended;
    private long total;

    /** Call on the request's event loop, with the request paused. Resumes it. */
    public RequestBodyStream(HttpServerRequest request, Context context) {
        this.request = request;
        this.context = context;
        request.handler(this::onData);
        request.endHandler(v -> queue.add(END));
        request.exceptionHandler(e -> queue.add(e));
        request.resume();
    }

    private void onData(Buffer buffer) {
        if (discarding) {
            return;
        }
        queue.add(buffer); // the server's own copy of the bytes (not pooled): read from it without another copy
        if (queued.addAndGet(buffer.length()) > HIGH_WATER && !paused) {
            paused = true;
            request.pause();
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (current == null || position >= current.length()) {
            if (ended) {
                return -1;
            }
            Object next;
            try {
                next = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while reading the request body");
            }
            if (next == END) {
                ended = true;
                return -1;
            }
            if (next instanceof Throwable t) {
                ended = true;
                throw new IOException(FAILED + t.getMessage(), t);
            }
            current = (Buffer) next;
            position = 0;
            if (queued.addAndGet(-current.length()) < LOW_WATER && paused) {
                paused = false;
                context.runOnContext(v -> request.resume());
            }
        }
        int n = Math.min(len, current.length() - position);
        current.getBytes(position, position + n, b, off);
        position += n;
        total += n;
        return n;
    }

    /** Bytes handed to the reader so far. */
    public long total() {
        return total;
    }

    @Override
    public void close() {
        if (!ended) {
            discarding = true;
            queue.clear();
            context.runOnContext(v -> request.resume());
        }
    }
}
