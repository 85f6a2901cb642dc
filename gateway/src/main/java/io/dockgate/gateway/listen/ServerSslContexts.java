package io.dockgate.gateway.listen;

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

    ServerSslContexts() {
    }

    @Override
    public SslContextFactory sslContextFactory() {
        return new Factory();
    }

    @Override
    public ServerSslContexts copy() {
        return new ServerSslContexts();
    }

    private static final class Factory implements SslContextFactory {
        private boolean forClient;
        private ClientAuth clientAuth = ClientAuth.NONE;
        private KeyManagerFactory keyManagers;
        private TrustManagerFactory trustManagers;
        private Set<String> cipherSuites;

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
                return new JdkSslContext(context, false, cipherSuites == null || cipherSuites.isEmpty() ? null : cipherSuites,
                        IdentityCipherSuiteFilter.INSTANCE, null, clientAuth, null, false);
            } catch (GeneralSecurityException e) {
                throw new SSLException("cannot initialise the listener's TLS context: " + e.getMessage(), e);
            }
        }
    }
}
