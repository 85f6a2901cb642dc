package io.dockgate.gateway.listen;

import io.dockgate.gateway.auth.Principal;
import io.netty.channel.Channel;
import io.vertx.core.Future;
import io.vertx.core.http.HttpConnection;
import java.time.Instant;

/**
 * A live client connection: its channel, where it came from and who is on it. The principal is a
 * future because resolving Unix account names reads files, which never happens on an event loop.
 */
public record ConnectionInfo(long id, HttpConnection connection, Channel channel, String remote,
                             Future<Principal> principal, Instant opened) {

    /** Closes the connection at the socket level (also cuts hijacked streams). */
    public void close() {
        channel.close();
    }
}
