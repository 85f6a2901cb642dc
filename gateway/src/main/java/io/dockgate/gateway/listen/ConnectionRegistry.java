package io.dockgate.gateway.listen;

import io.dockgate.certs.RevocationList;
import io.dockgate.gateway.auth.CertificateIdentity;
import io.dockgate.gateway.auth.Principal;
import io.netty.channel.Channel;
import io.vertx.core.Future;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every open connection of every listener, so that the pipeline can find who is calling and a new CRL
 * can cut the connections of the certificates it revokes.
 */
public final class ConnectionRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionRegistry.class);

    private final Map<HttpConnection, ConnectionInfo> connections = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private volatile java.util.function.Function<ConnectionInfo, io.netty.channel.ChannelHandler> framing;

    /** Installs, on every new connection, a handler ahead of the HTTP decoder (the framing guard). */
    public void framing(java.util.function.Function<ConnectionInfo, io.netty.channel.ChannelHandler> factory) {
        this.framing = factory;
    }

    /** Registers a new connection; it leaves the registry when it closes. */
    public ConnectionInfo register(HttpConnection connection, Future<Principal> principal) {
        Channel channel = channelOf(connection);
        ConnectionInfo info = new ConnectionInfo(ids.incrementAndGet(), connection, channel,
                String.valueOf(connection.remoteAddress()), principal, Instant.now());
        connections.put(connection, info);
        if (framing != null) {
            if (channel.pipeline().get("httpDecoder") == null) {
                connection.close(); // not HTTP/1.x as configured: nothing passes unchecked
                return info;
            }
            channel.pipeline().addBefore("httpDecoder", "dockgateFraming", framing.apply(info));
        }
        connection.closeHandler(v -> connections.remove(connection));
        return info;
    }

    public ConnectionInfo get(HttpConnection connection) {
        return connections.get(connection);
    }

    public int size() {
        return connections.size();
    }

    /** The Netty channel behind a Vert.x connection (an internal API; the classpath, not the module path). */
    public static Channel channelOf(HttpConnection connection) {
        return ((ConnectionBase) connection).channel();
    }

    /** Closes every connection whose client certificate the list revokes. */
    public int closeRevoked(RevocationList revocations) {
        int closed = 0;
        for (ConnectionInfo info : connections.values()) {
            Principal principal = info.principal().result();
            if (principal == null || principal.certificate().isEmpty()) {
                continue;
            }
            CertificateIdentity identity = principal.certificate().get();
            if (revocations.isRevoked(identity.certificate())) {
                LOG.warn("closing connection {} from {}: certificate of {} (serial {}) is now revoked",
                        info.id(), info.remote(), identity.subject(), identity.serial());
                info.close();
                connections.remove(info.connection());
                closed++;
            }
        }
        return closed;
    }

    /** Closes everything (daemon stop). */
    public void closeAll() {
        connections.values().forEach(ConnectionInfo::close);
        connections.clear();
    }
}
