package io.dockgate.gateway.listen;

import io.dockgate.config.ListenAddress;
import io.dockgate.gateway.auth.CertificateIdentity;
import io.dockgate.gateway.auth.Principal;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP listener: mutual TLS (the normal case), or plain HTTP on a loopback address when the operator
 * opted in. Every connection is registered with the principal taken from its verified certificate. One
 * server per event loop shares the socket ({@link SharedServers}).
 */
public final class TcpListener implements Listener {
    private static final Logger LOG = LoggerFactory.getLogger(TcpListener.class);

    private final SharedServers server;
    private final String address;

    private TcpListener(SharedServers server, String address) {
        this.server = server;
        this.address = address;
    }

    /**
     * Starts the listener.
     *
     * @param tls  the material, or null for the insecure loopback opt-in
     * @param gate bounds the TLS handshakes in progress (shared by every listener)
     */
    public static Future<Listener> start(Vertx vertx, ListenAddress.Tcp at, ReloadableTls tls, HandshakeGate gate,
                                         ConnectionRegistry registry, HandshakeListener handshakes, Handler<HttpServerRequest> handler) {
        String name = at.toString();
        java.util.function.BiConsumer<String, String> refused = (remote, reason) ->
                handshakes.rejected(new HandshakeRejection(Instant.now(), name, remote, reason, null, null));
        return SharedServers.listen(vertx, SharedServers.instances(), v -> {
                    HttpServer server = v.createHttpServer(tls != null ? ServerOptionsFactory.mutualTls(tls, gate, refused)
                            : ServerOptionsFactory.base());
                    server.connectionHandler(connection -> registry.register(connection, principalOf(connection, tls != null)));
                    server.exceptionHandler(failure -> reportFailure(name, failure, handshakes));
                    server.requestHandler(handler);
                    return server;
                }, SocketAddress.inetSocketAddress(at.port(), at.host()))
                .map(s -> {
                    String actual = "tcp://" + (at.host().contains(":") ? "[" + at.host() + "]" : at.host()) + ":" + s.actualPort();
                    LOG.info("listening on {}{}", actual, tls != null ? " (mutual TLS)" : " (PLAIN HTTP, loopback opt-in: no caller identity)");
                    return (Listener) new TcpListener(s, actual);
                })
                .recover(e -> Future.failedFuture(new IllegalStateException("cannot listen on " + name + ": " + e.getMessage(), e)));
    }

    private static Future<Principal> principalOf(HttpConnection connection, boolean tls) {
        if (!tls) {
            return Future.succeededFuture(Principal.anonymousTcp());
        }
        try {
            List<Certificate> chain = connection.peerCertificates();
            if (chain == null || chain.isEmpty() || !(chain.get(0) instanceof X509Certificate leaf)) {
                return Future.failedFuture("no verified client certificate on this connection");
            }
            return Future.succeededFuture(Principal.ofCertificate(CertificateIdentity.of(leaf)));
        } catch (SSLPeerUnverifiedException e) {
            return Future.failedFuture(e);
        }
    }

    /** Handshake failures that the trust manager did not already report (no certificate, protocol, not TLS). */
    private static void reportFailure(String listener, Throwable failure, HandshakeListener handshakes) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof io.dockgate.certs.CertificateRejectedException) {
                return; // reported with the certificate's details by the trust manager
            }
            if (t instanceof GatedEngine.Refused) {
                return; // reported with the source address by the handshake gate
            }
        }
        boolean tlsFailure = false;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SSLException || t.getClass().getSimpleName().equals("NotSslRecordException")) {
                tlsFailure = true;
            }
        }
        if (tlsFailure) {
            handshakes.rejected(new HandshakeRejection(Instant.now(), listener, "unknown", describe(failure), null, null));
        } else {
            LOG.debug("connection failure on {}: {}", listener, failure.toString());
        }
    }

    private static String describe(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
        if (root.getClass().getSimpleName().equals("NotSslRecordException")) {
            return "not a TLS connection (plain HTTP on the TLS port?)";
        }
        if (message.contains("Empty client certificate chain") || message.contains("certificate_required")) {
            return "no client certificate presented";
        }
        if (message.contains("protocol") && (message.contains("not enabled") || message.contains("not supported")
                || message.contains("not accepted"))) {
            return "protocol version refused (TLS 1.2 and 1.3 only): " + message;
        }
        if (message.contains("cipher")) {
            return "no common cipher suite (ECDHE with AEAD only): " + message;
        }
        return message;
    }

    @Override
    public String address() {
        return address;
    }

    @Override
    public Future<Void> close() {
        return server.close();
    }
}
