package io.dockgate.gateway.stream;

import io.dockgate.engine.container.Attachment;
import io.dockgate.gateway.http.Blocking;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import io.vertx.core.streams.WriteStream;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Joins a client stream (a hijacked connection, or a chunked response) to an engine {@link Attachment}:
 * output in Docker's framing (stdcopy 8-byte headers, or raw for a TTY) with back-pressure on the pump
 * thread; stdin in order through worker threads; the client's half-close closes stdin; with a TTY, the
 * detach keys end the stream and leave the process running (without one, stdin is binary data and
 * passes untouched, as dockerd does).
 */
public final class AttachBridge implements Attachment.Sink {
    private final WriteStream<Buffer> out;
    private final Context context;
    private final boolean tty;
    private final Promise<Void> ended = Promise.promise();
    private volatile boolean clientGone;

    public AttachBridge(WriteStream<Buffer> out, Context context, boolean tty) {
        this.out = out;
        this.context = context;
        this.tty = tty;
    }

    /** Completes when the attachment ended (process exited, or detached). */
    public Future<Void> ended() {
        return ended.future();
    }

    /** The client went away: stop waiting for the write queue. */
    public void clientGone() {
        clientGone = true;
    }

    /** One frame in Docker's stdcopy format (or raw bytes for a TTY). */
    public static Buffer frame(boolean tty, int stream, byte[] data, int offset, int length) {
        Buffer b = Buffer.buffer(length + 8);
        if (!tty) {
            b.appendByte((byte) stream).appendBytes(new byte[] {0, 0, 0}).appendInt(length);
        }
        return b.appendBytes(data, offset, length);
    }

    @Override
    public void output(int stream, byte[] data, int offset, int length) throws IOException {
        Buffer b = frame(tty, stream, data, offset, length);
        CountDownLatch writable = new CountDownLatch(1);
        context.runOnContext(v -> {
            out.write(b);
            if (!out.writeQueueFull()) {
                writable.countDown();
            } else {
                out.drainHandler(x -> writable.countDown());
            }
        });
        try {
            while (!writable.await(1, TimeUnit.SECONDS)) {
                if (clientGone) {
                    throw new IOException("client gone");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        }
    }

    @Override
    public void end() {
        context.runOnContext(v -> ended.tryComplete());
    }

    /**
     * Wires the client's input to the attachment (when it wants stdin). Chunks are written one after the
     * other on workers, chained so order holds (also before the attachment is ready). The socket is paused
     * only when many chunks wait: the client's half-close arrives as an event that overtakes data still
     * queued in a paused socket, so stdin is closed only once the socket is flowing and its queue drained.
     */
    public static void pipeStdin(NetSocket socket, Future<Void> inputEnded, CompletableFuture<Attachment> attachment, Blocking blocking,
                                 DetachKeys keys, Runnable onDetach) {
        new StdinPump(socket, Future.fromCompletionStage(attachment), blocking, keys, onDetach).start(inputEnded);
    }

    /** The ordered, back-pressured stdin path; all its state is touched on the socket's event loop. */
    private static final class StdinPump {
        private static final int HIGH = 64;
        private static final int LOW = 8;
        private final NetSocket socket;
        private final Blocking blocking;
        private final DetachKeys keys;
        private final Runnable onDetach;
        private final Context context = io.vertx.core.Vertx.currentContext();
        private Future<Attachment> last;
        private int inFlight;
        private boolean paused;
        private boolean endPending;
        private boolean detached;

        StdinPump(NetSocket socket, Future<Attachment> ready, Blocking blocking, DetachKeys keys, Runnable onDetach) {
            this.socket = socket;
            this.last = ready;
            this.blocking = blocking;
            this.keys = keys;
            this.onDetach = onDetach;
        }

        void start(Future<Void> inputEnded) {
            socket.handler(this::data);
            inputEnded.onComplete(v -> context.runOnContext(x -> {
                endPending = true;
                closeWhenDrained();
            }));
            socket.resume();
        }

        private void data(Buffer data) {
            if (detached) {
                return;
            }
            DetachKeys.Result r = keys == null ? new DetachKeys.Result(data.getBytes(), false) : keys.feed(data.getBytes());
            if (r.forward().length > 0) {
                inFlight++;
                last = last.compose(a -> blocking.run(() -> {
                    a.write(r.forward(), 0, r.forward().length);
                    return a;
                }));
                last.onComplete(ar -> context.runOnContext(x -> written()));
                if (inFlight >= HIGH && !paused) {
                    paused = true;
                    socket.pause();
                }
            }
            if (r.detach()) {
                detached = true;
                last.onComplete(ar -> onDetach.run());
            }
        }

        private void written() {
            inFlight--;
            if (paused && inFlight <= LOW) {
                paused = false;
                socket.resume();
                closeWhenDrained();
            }
        }

        private void closeWhenDrained() {
            if (!endPending || paused || detached) {
                return;
            }
            // Data a resume releases is delivered before this task runs.
            context.runOnContext(x -> {
                if (endPending && !paused) {
                    endPending = false;
                    last = last.compose(a -> blocking.run(() -> {
                        a.closeStdin();
                        return a;
                    }));
                }
            });
        }
    }
}
