package io.dockgate.gateway.listen;

import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.TrustOptions;
import java.util.LinkedHashSet;
import java.util.concurrent.TimeUnit;

/** The HTTP server options every listener shares, and the TLS options of the mutual-TLS listener. */
final class ServerOptionsFactory {
    private ServerOptionsFactory() {
    }

    static HttpServerOptions base() {
        return new HttpServerOptions()
                .setCompressionSupported(false)
                .setDecompressionSupported(false)
                .setHandle100ContinueAutomatically(false)
                .setMaxInitialLineLength(64 * 1024)
                .setMaxHeaderSize(64 * 1024)
                // uploads (build contexts, image archives, copies) reach their handlers in 64 KiB pieces, not
                // Netty's default 8 KiB: a 50 MiB context is 800 hand-offs to the worker instead of 6400
                .setMaxChunkSize(64 * 1024)
                .setUseAlpn(false)
                // no h2c: Docker speaks HTTP/1.1, and with h2c detection Vert.x creates the connection (and
                // calls the connection handler that installs the framing guard) only after decoding the
                // first request
                .setHttp2ClearTextEnabled(false)
                .setReuseAddress(true)
                .setTcpNoDelay(true);
    }

    /**
     * Mutual TLS on the JDK engine: TLS 1.2 and 1.3, ECDHE + AEAD suites, a client certificate required
     * and checked by {@link ReloadableTls#trustManager()} (the CA file alone, the CRL, usages, strength); the
     * handshakes in progress bounded by the gate.
     */
    static HttpServerOptions mutualTls(ReloadableTls tls, HandshakeGate gate, java.util.function.BiConsumer<String, String> refused) {
        HttpServerOptions options = base()
                .setSsl(true)
                .setSslEngineOptions(new ServerSslContexts(gate, refused))
                .setKeyCertOptions(KeyCertOptions.wrap(tls.keyManager()))
                .setTrustOptions(TrustOptions.wrap(tls.trustManager()))
                .setClientAuth(ClientAuth.REQUIRED)
                .setEnabledSecureTransportProtocols(new LinkedHashSet<>(ReloadableTls.PROTOCOLS))
                .setSslHandshakeTimeout(10)
                .setSslHandshakeTimeoutUnit(TimeUnit.SECONDS);
        ReloadableTls.CIPHER_SUITES.forEach(options::addEnabledCipherSuite);
        return options;
    }
}
