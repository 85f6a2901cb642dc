package io.dockgate.gateway.listen;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.SocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * One listening address served by one HTTP server per event loop. Vert.x binds the socket once and
 * deals the accepted connections round-robin among servers listening on the same address from
 * different event loops (as it does for the instances of a verticle): with a single server, every
 * connection's TLS, parsing and pipeline would run on one thread whatever the number of cores.
 */
final class SharedServers {
    private static final AtomicInteger RANDOM_PORTS = new AtomicInteger();
    private final Vertx vertx;
    private final List<HttpServer> servers;
    private final String deployment;

    private SharedServers(Vertx vertx, List<HttpServer> servers, String deployment) {
        this.vertx = vertx;
        this.servers = servers;
        this.deployment = deployment;
    }

    /**
     * How many event loops serve each listener: one per two cores (the other half is left to the engine's
     * blocking work, the shims and runc, and the JIT), or {@code -Ddockgate.listener.loops=N}. On two
     * cores shared with its clients a second loop raised the /_ping rate by 6-16 % but cost 25 % more CPU
     * per request and 10 MiB of memory (docs/benchmarks.md).
     */
    static int instances() {
        return Integer.getInteger("dockgate.listener.loops", Math.max(1, Runtime.getRuntime().availableProcessors() / 2));
    }

    /**
     * Starts {@code instances} servers made by {@code create} on {@code address}. Port 0 becomes a
     * negative port of this listener's own, which Vert.x binds once to one random port for all the
     * servers listening on it.
     */
    static Future<SharedServers> listen(Vertx vertx, int instances, Function<Vertx, HttpServer> create, SocketAddress address) {
        Function<HttpServer, Future<HttpServer>> listen;
        if (address.isInetSocket()) {
            int port = address.port() == 0 ? -RANDOM_PORTS.incrementAndGet() : address.port();
            listen = server -> server.listen(port, address.host());
        } else {
            listen = server -> server.listen(address);
        }
        List<HttpServer> servers = new CopyOnWriteArrayList<>();
        return vertx.deployVerticle(() -> new ServerVerticle(create, listen, servers),
                        new DeploymentOptions().setInstances(instances))
                .map(id -> new SharedServers(vertx, servers, id));
    }

    int actualPort() {
        return servers.get(0).actualPort();
    }

    /** Stops every server (undeploying closes them and their connections). */
    Future<Void> close() {
        return vertx.undeploy(deployment);
    }

    private static final class ServerVerticle extends VerticleBase {
        private final Function<Vertx, HttpServer> create;
        private final Function<HttpServer, Future<HttpServer>> listen;
        private final List<HttpServer> servers;

        ServerVerticle(Function<Vertx, HttpServer> create, Function<HttpServer, Future<HttpServer>> listen,
                       List<HttpServer> servers) {
            this.create = create;
            this.listen = listen;
            this.servers = servers;
        }

        @Override
        public Future<?> start() {
            return listen.apply(create.apply(vertx)).onSuccess(servers::add);
        }
    }
}
