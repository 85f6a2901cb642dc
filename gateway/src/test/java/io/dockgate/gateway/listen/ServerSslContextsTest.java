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

    private ReloadableTls tls() {
        TestPki.create().writeServerFiles(tmp);
        return new ReloadableTls(new DaemonConfig.TlsConfig(tmp.resolve("ca.pem"), tmp.resolve("server-cert.pem"),
                tmp.resolve("server-key.pem"), Optional.empty()), Clock.systemUTC(), r -> { }, "tls");
    }

    private SslContextFactory factory(ReloadableTls tls) throws Exception {
        HttpServerOptions options = ServerOptionsFactory.mutualTls(tls);
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
        assertThatThrownBy(() -> new ServerSslContexts().sslContextFactory().forClient(false).create())
                .isInstanceOf(SSLException.class).hasMessageContaining("key and trust managers");
    }
}
