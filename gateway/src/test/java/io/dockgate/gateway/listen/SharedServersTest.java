package io.dockgate.gateway.listen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.SocketAddress;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SharedServersTest {
    /*
     * The daemon's transport (Daemon prefers epoll). With NIO, a closed listening socket still registered
     * with a selector keeps its descriptor until the selector's next pass (the JDK defers the close), so
     * a connection made right after close() can still be accepted: 1 time in 6 here.
     */
    private final Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void oneRandomPortIsServedByEveryEventLoopAndClosedWithThem() throws Exception {
        assertThat(vertx.isNativeTransportEnabled()).isTrue();
        SharedServers servers = SharedServers.listen(vertx, 2,
                        v -> v.createHttpServer().requestHandler(r -> r.response().end(Thread.currentThread().getName())),
                        SocketAddress.inetSocketAddress(0, "127.0.0.1"))
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        int port = servers.actualPort();
        assertThat(port).isPositive();
        Set<String> threads = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            HttpClient client = HttpClient.newHttpClient(); // a new connection each time: dealt round-robin
            threads.add(client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
        }
        assertThat(threads).hasSize(2).allSatisfy(t -> assertThat(t).startsWith("vert.x-eventloop-thread-"));

        // a second listener on port 0 gets a port of its own
        SharedServers other = SharedServers.listen(vertx, 2, v -> v.createHttpServer().requestHandler(r -> r.response().end()),
                SocketAddress.inetSocketAddress(0, "127.0.0.1")).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(other.actualPort()).isPositive().isNotEqualTo(port);

        servers.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(IOException.class);
        other.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
