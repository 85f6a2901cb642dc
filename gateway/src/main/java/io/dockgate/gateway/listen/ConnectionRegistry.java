package io.dockgate.gateway.listen;

import io.dockgate.certs.RevocationList;
import io.dockgate.config.DaemonConfig;
import io.dockgate.gateway.auth.CertificateIdentity;
import io.dockgate.gateway.auth.Principal;
import io.dockgate.gateway.auth.Transport;
import io.dockgate.gateway.authz.Subjects;
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
 * can cut the connections of the certificates it revokes; and the connection limits: how many one
 * identity may hold open (requests on one more are refused by the pipeline, which then closes it), and
 * how long one may sit idle between requests.
 */
public final class ConnectionRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionRegistry.class);

    private final Map<HttpConnection, ConnectionInfo> connections = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private volatile java.util.function.Function<ConnectionInfo, io.netty.channel.ChannelHandler> framing;
    private volatile DaemonConfig.ConnectionLimits limits = new DaemonConfig.ConnectionLimits(0, 0, 0, 0);
    /** Open connections per identity (owner key), counted once the principal is known. */
    private final Map<String, Integer> perIdentity = new ConcurrentHashMap<>();

    /** Sets the limits for connections opened from now on. */
    public void limits(DaemonConfig.ConnectionLimits limits) {
        this.limits = limits;
    }

    /** Installs, on every new connection, a handler ahead of the HTTP decoder (the framing guard). */
    public void framing(java.util.function.Function<ConnectionInfo, io.netty.channel.ChannelHandler> factory) {
        this.framing = factory;
    }

    /** Registers a new connection; it leaves the registry when it closes. */
    public ConnectionInfo register(HttpConnection connection, Future<Principal> principal) {
        Channel channel = channelOf(connection);
        DaemonConfig.ConnectionLimits l = limits;
        // the identity is counted before anyone sees the principal: a request cannot pass ahead of its count
        io.vertx.core.Promise<Principal> counted = io.vertx.core.Promise.promise();
        ConnectionInfo info = new ConnectionInfo(ids.incrementAndGet(), connection, channel,
                String.valueOf(connection.remoteAddress()), counted.future(), Instant.now());
        principal.onComplete(ar -> {
            if (ar.succeeded()) {
                count(info, ar.result(), l.maxPerIdentity());
                counted.complete(ar.result());
            } else {
                counted.fail(ar.cause());
            }
        });
        connections.put(connection, info);
        if (framing != null) {
            if (channel.pipeline().get("httpDecoder") == null) {
                connection.close(); // not HTTP/1.x as configured: nothing passes unchecked
                return info;
            }
            channel.pipeline().addBefore("httpDecoder", "dockgateFraming", framing.apply(info));
        }
        if (l.idleTimeoutSeconds() > 0 && channel.pipeline().get("httpDecoder") != null) {
            // after TLS and before HTTP: it sees the requests' bytes and the responses' as they go out
            channel.pipeline().addBefore("httpDecoder", "dockgateIdle", new IdleConnectionCloser(info, l.idleTimeoutSeconds()));
        }
        // the channel's close, not the connection's close handler: after a hijack Vert.x may not call that one
        channel.closeFuture().addListener(f -> {
            connections.remove(connection);
            info.closed();
        });
        return info;
    }

    /**
     * Counts the connection against its identity's limit, or marks it refused when the identity already
     * holds the limit. Root on the Unix socket is not limited (it owns the daemon's host).
     */
    private void count(ConnectionInfo info, Principal p, int max) {
        if (max <= 0 || p.transport() == Transport.UNIX && p.peer().map(c -> c.uid() == 0).orElse(false)) {
            return;
        }
        String key = Subjects.ownerKey(p);
        boolean[] admitted = {false};
        perIdentity.compute(key, (k, open) -> {
            int n = open == null ? 0 : open;
            if (n >= max) {
                return open;
            }
            admitted[0] = true;
            return n + 1;
        });
        if (!admitted[0]) {
            LOG.warn("connection {} from {}: {} already holds {} connections, the limit: its requests are refused",
                    info.id(), info.remote(), key, max);
            info.refuse("too many connections: " + key + " already holds " + max
                    + " open connections, the limit (--max-connections-per-identity); close some and retry");
            return;
        }
        info.onClose(() -> perIdentity.computeIfPresent(key, (k, open) -> open <= 1 ? null : open - 1));
    }

    /** How many connections an identity (owner key, e.g. {@code tls:alice}) holds open and counted. */
    public int openBy(String identity) {
        return perIdentity.getOrDefault(identity, 0);
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
