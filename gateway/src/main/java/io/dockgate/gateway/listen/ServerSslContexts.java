package io.dockgate.gateway.listen;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.spi.tls.SslContextFactory;
import java.security.GeneralSecurityException;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * The JDK engine with the server's {@link SSLContext} built here, from the listener's own key and trust
 * managers, and handed to Netty as a ready {@link JdkSslContext}.
 *
 * <p>Vert.x's default factory goes through Netty's {@code SslContextBuilder}, whose server context class
 * probes once per JVM whether it may wrap trust managers: it parses a built-in PEM key through
 * BouncyCastle, which instantiates BouncyCastle's whole JCA provider (its service tables stay on the
 * heap), and builds a key store and key manager factory. None of it serves a listener whose managers
 * are already given: about 410 classes fewer and 3-4 MiB less idle RSS (docs/benchmarks.md, session 5).
 * Server contexts only; the daemon makes no TLS client connections.
 */
final class ServerSslContexts extends JdkSSLEngineOptions {
    private final HandshakeGate gate;
    private final java.util.function.BiConsumer<String, String> refused;

    /**
     * @param gate    bounds the handshakes in progress
     * @param refused told the source address and the reason of each connection the gate refuses
     */
    ServerSslContexts(HandshakeGate gate, java.util.function.BiConsumer<String, String> refused) {
        this.gate = gate;
        this.refused = refused;
    }

    @Override
    public SslContextFactory sslContextFactory() {
        return new Factory(gate, refused);
    }

    @Override
    public ServerSslContexts copy() {
        return new ServerSslContexts(gate, refused);
    }

    /** The JDK context, whose engines hold a gate slot for their handshake (the peer is the client's address). */
    private static final class GatedContext extends SslContext {
        private final JdkSslContext jdk;
        private final HandshakeGate gate;
        private final java.util.function.BiConsumer<String, String> refused;

        GatedContext(JdkSslContext jdk, HandshakeGate gate, java.util.function.BiConsumer<String, String> refused) {
            this.jdk = jdk;
            this.gate = gate;
            this.refused = refused;
        }

        @Override
        public SSLEngine newEngine(ByteBufAllocator alloc, String peerHost, int peerPort) {
            String address = peerHost == null ? "unknown" : peerHost;
            HandshakeGate.Admission admission = gate.enter(address);
            if (!admission.admitted()) {
                refused.accept(address + (peerPort > 0 ? ":" + peerPort : ""), admission.refusal());
            }
            return new GatedEngine(jdk.newEngine(alloc, peerHost, peerPort), admission);
        }

        @Override
        public SSLEngine newEngine(ByteBufAllocator alloc) {
            return newEngine(alloc, null, -1);
        }

        @Override
        public boolean isClient() {
            return false;
        }

        @Override
        public java.util.List<String> cipherSuites() {
            return jdk.cipherSuites();
        }

        @Override
        public io.netty.handler.ssl.ApplicationProtocolNegotiator applicationProtocolNegotiator() {
            return jdk.applicationProtocolNegotiator();
        }

        @Override
        public javax.net.ssl.SSLSessionContext sessionContext() {
            return jdk.sessionContext();
        }
    }

    private static final class Factory implements SslContextFactory {
        private final HandshakeGate gate;
        private final java.util.function.BiConsumer<String, String> refused;
        private boolean forClient;
        private ClientAuth clientAuth = ClientAuth.NONE;
        private KeyManagerFactory keyManagers;
        private TrustManagerFactory trustManagers;
        private Set<String> cipherSuites;

        Factory(HandshakeGate gate, java.util.function.BiConsumer<String, String> refused) {
            this.gate = gate;
            this.refused = refused;
        }

        @Override
        public SslContextFactory forClient(boolean forClient) {
            this.forClient = forClient;
            return this;
        }

        @Override
        public SslContextFactory clientAuth(ClientAuth clientAuth) {
            this.clientAuth = clientAuth;
            return this;
        }

        @Override
        public SslContextFactory keyMananagerFactory(KeyManagerFactory kmf) {
            this.keyManagers = kmf;
            return this;
        }

        @Override
        public SslContextFactory trustManagerFactory(TrustManagerFactory tmf) {
            this.trustManagers = tmf;
            return this;
        }

        @Override
        public SslContextFactory enabledCipherSuites(Set<String> enabledCipherSuites) {
            this.cipherSuites = enabledCipherSuites;
            return this;
        }

        @Override
        public SslContext create() throws SSLException {
            if (forClient) {
                throw new SSLException("dockgate's TLS engine options serve listeners only, not clients");
            }
            if (keyManagers == null || trustManagers == null) {
                throw new SSLException("a mutual-TLS listener needs its key and trust managers");
            }
            try {
                SSLContext context = SSLContext.getInstance("TLS");
                context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
                // protocols are set on each engine by Vert.x (enabledSecureTransportProtocols)
                return new GatedContext(new JdkSslContext(context, false, cipherSuites == null || cipherSuites.isEmpty() ? null
                        : cipherSuites, IdentityCipherSuiteFilter.INSTANCE, null, clientAuth, null, false), gate, refused);
            } catch (GeneralSecurityException e) {
                throw new SSLException("cannot initialise the listener's TLS context: " + e.getMessage(), e);
            }
        }
    }
}
