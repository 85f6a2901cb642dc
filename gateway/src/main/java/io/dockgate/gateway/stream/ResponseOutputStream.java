package io.dockgate.gateway.stream;

import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A blocking OutputStream for worker threads that writes to an HTTP response on its event loop, waiting
 * whenever the connection's write queue is full (back-pressure) and failing once the client has gone.
 * Wrap it in a BufferedOutputStream: each write is one hop to the event loop.
 */
public final class ResponseOutputStream extends OutputStream {
    /** The failure of a write after the client closed the connection. */
    public static final String CLIENT_CLOSED = "the client closed the connection";

    private final HttpServerResponse response;
    private final Context context;
    private volatile boolean closedByPeer;

    public ResponseOutputStream(HttpServerResponse response, Context context) {
        this.response = response;
        this.context = context;
        context.runOnContext(v -> response.closeHandler(x -> closedByPeer = true));
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (closedByPeer) {
            throw new IOException(CLIENT_CLOSED);
        }
        if (len == 0) {
            return;
        }
        Buffer buffer = Buffer.buffer(len).appendBytes(b, off, len);
        CompletableFuture<Void> writable = new CompletableFuture<>();
        context.runOnContext(v -> {
            if (closedByPeer) {
                writable.completeExceptionally(new IOException(CLIENT_CLOSED));
                return;
            }
            response.write(buffer);
            if (response.writeQueueFull()) {
                response.drainHandler(x -> writable.complete(null));
            } else {
                writable.complete(null);
            }
        });
        try {
            writable.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing the response");
        } catch (ExecutionException e) {
            throw new IOException(e.getCause().getMessage(), e.getCause());
        }
    }
}
