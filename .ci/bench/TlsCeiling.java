package io.dockgate.gateway.listen;

import io.dockgate.config.DaemonConfig;
import io.dockgate.gateway.http.DockerHeaders;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.SocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;

/**
 * The ceiling of dockgate's TLS stack, for .ci/bench-api: the same Vert.x server on the same event
 * loops, with the listener's own TLS options (the JDK engine, the native crypto provider, the same key,
 * protocols, suites and client-certificate check), answering /_ping with dockerd's headers, and doing
 * nothing else: no authentication to a principal, no policy, no audit record, no framing checks.
 * What it serves per second bounds what the daemon can serve on this machine.
 * Compiled by the benchmark against dockgate.jar (same package: it uses the listener's package-private
 * option factory). Arguments: directory with ca.pem, server-cert.pem, server-key.pem; port.
 */
public final class TlsCeiling {
    private TlsCeiling() {
    }

    public static void main(String[] args) {
        Path pki = Path.of(args[0]);
        int port = Integer.parseInt(args[1]);
        System.setProperty("io.netty.allocator.type", "pooled");
        System.setProperty("io.netty.allocator.maxOrder", "7");
        NativeCrypto.install();
        ReloadableTls tls = new ReloadableTls(new DaemonConfig.TlsConfig(pki.resolve("ca.pem"), pki.resolve("server-cert.pem"),
                pki.resolve("server-key.pem"), Optional.empty()), Clock.systemUTC(), rejection -> { }, "ceiling");
        Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
        DockerHeaders headers = new DockerHeaders("ceiling");
        SharedServers.listen(vertx, SharedServers.instances(), v -> {
            HttpServer server = v.createHttpServer(ServerOptionsFactory.mutualTls(tls));
            return server.requestHandler(request -> {
                headers.apply(request.response());
                request.response().putHeader("Cache-Control", "no-cache, no-store, must-revalidate")
                        .putHeader("Pragma", "no-cache").putHeader("Swarm", "inactive")
                        .putHeader("Content-Type", "text/plain; charset=utf-8").end("OK");
            });
        }, SocketAddress.inetSocketAddress(port, "127.0.0.1"))
                .onSuccess(s -> System.out.println("listening on 127.0.0.1:" + s.actualPort()))
                .onFailure(e -> {
                    e.printStackTrace();
                    System.exit(1);
                });
    }
}
