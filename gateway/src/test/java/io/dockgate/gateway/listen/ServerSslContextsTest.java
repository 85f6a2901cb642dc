package io.dockgate.gateway.listen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dockgate.certs.testing.TestPki;
import io.dockgate.config.DaemonConfig;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.core.spi.tls.SslContextFactory;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The listener's own SSL context factory: the managers given, client certificates required, the suites set. */
class ServerSslContextsTest {
    @TempDir
    Path tmp;

    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private HandshakeGate gate = HandshakeGate.unbounded();
    private final List<String> refusals = new java.util.concurrent.CopyOnWriteArrayList<>();

    private ReloadableTls tls() {
        TestPki.create().writeServerFiles(tmp);
        return new ReloadableTls(new DaemonConfig.TlsConfig(tmp.resolve("ca.pem"), tmp.resolve("server-cert.pem"),
                tmp.resolve("server-key.pem"), Optional.empty()), Clock.systemUTC(), r -> { }, "tls");
    }

    private SslContextFactory factory(ReloadableTls tls) throws Exception {
        HttpServerOptions options = ServerOptionsFactory.mutualTls(tls, gate, (remote, reason) -> refusals.add(remote + " " + reason));
        assertThat(options.getSslEngineOptions()).isInstanceOf(ServerSslContexts.class);
        assertThat(options.getSslEngineOptions().copy()).isInstanceOf(ServerSslContexts.class);
        return options.getSslEngineOptions().sslContextFactory()
                .keyMananagerFactory(KeyCertOptions.wrap(tls.keyManager()).getKeyManagerFactory(vertx))
                .trustManagerFactory(TrustOptions.wrap(tls.trustManager()).getTrustManagerFactory(vertx));
    }

    @Test
    void buildsAServerContextThatRequiresClientCertificatesWithTheListenersSuites() throws Exception {
        Set<String> suites = new LinkedHashSet<>(List.of("TLS_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"));
        SslContext context = factory(tls()).forClient(false).clientAuth(ClientAuth.REQUIRE).enabledCipherSuites(suites).create();

        assertThat(context.isServer()).isTrue();
        SSLEngine engine = context.newEngine(ByteBufAllocator.DEFAULT);
        assertThat(engine.getUseClientMode()).isFalse();
        assertThat(engine.getNeedClientAuth()).isTrue();
        assertThat(engine.getEnabledCipherSuites()).containsExactlyInAnyOrderElementsOf(suites);
        assertThat(context.cipherSuites()).containsExactlyInAnyOrderElementsOf(suites);
    }

    @Test
    void refusesClientContextsAndMissingManagers() throws Exception {
        ReloadableTls tls = tls();
        assertThatThrownBy(() -> factory(tls).forClient(true).create())
                .isInstanceOf(SSLException.class).hasMessageContaining("listeners only");
        assertThatThrownBy(() -> new ServerSslContexts(HandshakeGate.unbounded(), (a, b) -> { }).sslContextFactory().forClient(false).create())
                .isInstanceOf(SSLException.class).hasMessageContaining("key and trust managers");
    }

    @Test
    void theGateBoundsHandshakesPerAddressAndGivesSlotsBackWhenTheyEnd() throws Exception {
        gate = new HandshakeGate(3, 1);
        SslContext context = factory(tls()).forClient(false).clientAuth(ClientAuth.REQUIRE).create();
        SSLEngine first = context.newEngine(ByteBufAllocator.DEFAULT, "192.0.2.1", 40000);
        assertThat(gate.inProgress()).isEqualTo(1);
        SSLEngine second = context.newEngine(ByteBufAllocator.DEFAULT, "192.0.2.1", 40001);
        assertThat(refusals).containsExactly("192.0.2.1:40001 too many TLS handshakes in progress from 192.0.2.1 (limit 1,"
                + " --max-concurrent-handshakes-per-ip)");
        java.nio.ByteBuffer in = java.nio.ByteBuffer.allocate(16);
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(second.getSession().getPacketBufferSize());
        assertThatThrownBy(() -> second.unwrap(in, out)).isInstanceOf(javax.net.ssl.SSLHandshakeException.class)
                .hasMessageContaining("too many TLS handshakes");
        assertThat(gate.refusals()).isEqualTo(1);
        SSLEngine other = context.newEngine(ByteBufAllocator.DEFAULT, "192.0.2.2", 40000);
        assertThat(gate.inProgress()).as("another address has slots of its own").isEqualTo(2);
        first.closeOutbound(); // the connection closed before its handshake ended
        first.closeInbound();
        assertThat(gate.inProgress()).as("released once").isEqualTo(1);
        context.newEngine(ByteBufAllocator.DEFAULT, "192.0.2.1", 40002);
        assertThat(gate.inProgress()).isEqualTo(2);
        assertThat(refusals).hasSize(1);
        other.closeOutbound();
    }
}
