package io.dockgate.gateway.api;

import io.dockgate.engine.container.Attachment;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.http.Blocking;
import io.dockgate.gateway.stream.AttachBridge;
import io.dockgate.gateway.stream.DetachKeys;
import io.dockgate.gateway.stream.Hijack;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.NetSocket;
import java.util.concurrent.CompletableFuture;

/**
 * The client side of an attach (docker attach, docker run in the foreground, docker exec): the
 * connection is hijacked ({@code 101 UPGRADED}) when the client asks for it, or the output is sent as
 * a chunked response; the engine's {@link Attachment} is joined to it by an {@link AttachBridge}.
 */
final class AttachedStream {
    private AttachedStream() {
    }

    /** The engine call that attaches the sink (blocking allowed). */
    @FunctionalInterface
    interface EngineAttach {
        CompletableFuture<Attachment> apply(Attachment.Sink sink) throws Exception;
    }

    /**
     * How to stream. {@code tty}: the output goes raw, not in stdcopy frames; {@code keys}: the detach keys
     * watched on stdin (null: none, stdin is binary data); {@code preface} is sent before the live output
     * (attach's logs=1).
     */
    record Options(boolean tty, boolean stdin, DetachKeys keys, Buffer preface) {
    }

    static String contentType(boolean tty) {
        return tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream";
    }

    /**
     * Streams until the attachment ends or the client leaves. {@code attach} asks the engine for the
     * attachment given the sink (on a worker); a failure after the stream began is written into it as
     * text, as dockerd does (the CLI prints it).
     */
    static Future<Void> run(ApiRequest request, Blocking blocking, Options options,
                            EngineAttach attach) {
        Context context = Vertx.currentContext();
        String type = contentType(options.tty());
        if (request.http().getHeader("Upgrade") == null) {
            HttpServerResponse response = request.response();
            response.setStatusCode(200).setChunked(true).putHeader("Content-Type", type);
            Promise<Void> closed = Promise.promise();
            response.closeHandler(v -> closed.tryComplete());
            return stream(response, closed.future(), null, null, context, blocking, options, attach)
                    .compose(v -> response.end(), e -> Future.succeededFuture());
        }
        return Hijack.upgrade(request.http(), type).compose(up -> {
            request.hijacked();
            return stream(up.socket(), up.closed(), up.socket(), up.inputEnded(), context, blocking, options, attach)
                    .eventually(() -> up.socket().end());
        });
    }

    /**
     * attach with stream=0: the logs so far and nothing live. A client that asked to upgrade gets the 101,
     * the logs and the end of the connection, as dockerd does; the others a plain response.
     */
    static Future<Void> logsOnly(ApiRequest request, String contentType, Buffer logs) {
        if (request.http().getHeader("Upgrade") == null) {
            return request.response().setStatusCode(200).putHeader("Content-Type", contentType).end(logs);
        }
        return Hijack.upgrade(request.http(), contentType).compose(up -> {
            request.hijacked();
            up.socket().handler(data -> { }); // nothing is read from the client
            up.socket().resume();
            return up.socket().write(logs).eventually(() -> up.socket().close());
        });
    }

    private static Future<Void> stream(io.vertx.core.streams.WriteStream<Buffer> out, Future<Void> closed, NetSocket socket,
                                       Future<Void> inputEnded, Context context, Blocking blocking, Options options,
                                       EngineAttach attach) {
        if (options.preface() != null && options.preface().length() > 0) {
            out.write(options.preface());
        }
        AttachBridge bridge = new AttachBridge(out, context, options.tty());
        // The engine call may block (an exec starts its shim): it runs on a worker.
        CompletableFuture<CompletableFuture<Attachment>> requested = new CompletableFuture<>();
        blocking.run(() -> attach.apply(bridge)).onComplete(ar -> {
            if (ar.succeeded()) {
                requested.complete(ar.result());
            } else {
                requested.completeExceptionally(ar.cause());
            }
        });
        CompletableFuture<Attachment> attachment = requested.thenCompose(f -> f);
        Future<Attachment> ready = Future.fromCompletionStage(attachment, context);
        Promise<Void> done = Promise.promise();
        closed.onComplete(v -> {
            bridge.clientGone();
            requested.thenAccept(f -> f.cancel(false)); // still waiting for the start: give up
            ready.onSuccess(Attachment::close);
            done.tryComplete();
        });
        if (socket != null) {
            if (options.stdin()) {
                AttachBridge.pipeStdin(socket, inputEnded, attachment, blocking, options.keys(), () -> ready.onSuccess(Attachment::close));
            } else {
                socket.handler(data -> { }); // no stdin wanted: bytes are dropped
                socket.resume();
            }
        }
        ready.onFailure(e -> {
            Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof java.util.concurrent.CancellationException) {
                done.tryComplete(); // the client left first, or the container was removed before it started
            } else {
                writeError(out, options.tty(), cause).onComplete(v -> done.tryComplete());
            }
        });
        // An exec that fails to start may end its attachment before the failure is known: the error goes first.
        bridge.ended().onComplete(v -> ready.onSuccess(a -> done.tryComplete()));
        return done.future();
    }

    /** A failure once streaming began: its message goes to the client as output, as dockerd writes it. */
    static Future<Void> writeError(io.vertx.core.streams.WriteStream<Buffer> out, boolean tty, Throwable e) {
        byte[] text = (e.getMessage() + "\r\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return out.write(AttachBridge.frame(tty, 1, text, 0, text.length));
    }
}
