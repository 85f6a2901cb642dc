package io.dockgate.gateway.stream;

import io.dockgate.gateway.listen.ConnectionRegistry;
import io.dockgate.gateway.listen.HangupWatcher;
import io.netty.channel.Channel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannelConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.impl.Http1xServerConnection;
import io.vertx.core.net.NetSocket;

/**
 * Docker's hijack: the connection stops being HTTP after {@code 101 UPGRADED}. Half-closure is enabled
 * first, so the client's end of input (TCP FIN, or the TLS 1.3 close_notify the docker CLI sends when it
 * has no stdin) does not close the connection: the daemon goes on writing the container's output. The
 * socket is returned paused: the caller sets its handler, then resumes it.
 */
public final class Hijack {
    /** The upgraded connection and a future that completes when the client ends its input. */
    public record Upgraded(NetSocket socket, Future<Void> inputEnded, Future<Void> closed) {
    }

    private Hijack() {
    }

    public static Future<Upgraded> upgrade(HttpServerRequest request, String contentType) {
        Channel channel = ConnectionRegistry.channelOf(request.connection());
        if (channel.config() instanceof DuplexChannelConfig duplex) {
            duplex.setAllowHalfClosure(true);
        }
        Tls12AlertFilter.installIfTls12(channel);
        HangupWatcher.watch(channel); // a Unix client that dies after its half-close would spin the event loop
        Http1xServerConnection connection = (Http1xServerConnection) request.connection();
        request.resume();
        return connection.netSocket().compose(socket -> {
            Promise<Void> inputEnded = Promise.promise();
            Promise<Void> closed = Promise.promise();
            ((io.vertx.core.internal.net.NetSocketInternal) socket).eventHandler(event -> {
                if (event instanceof ChannelInputShutdownEvent || event.getClass().getSimpleName().equals("SslCloseCompletionEvent")) {
                    inputEnded.tryComplete();
                }
            });
            socket.pause(); // the client may send stdin as soon as it reads the 101: held until the caller sets its handler
            socket.endHandler(v -> inputEnded.tryComplete());
            socket.closeHandler(v -> {
                inputEnded.tryComplete();
                closed.tryComplete();
            });
            String head = "HTTP/1.1 101 UPGRADED\r\nContent-Type: " + contentType + "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
            return socket.write(Buffer.buffer(head)).map(v -> new Upgraded(socket, inputEnded.future(), closed.future()));
        });
    }
}
