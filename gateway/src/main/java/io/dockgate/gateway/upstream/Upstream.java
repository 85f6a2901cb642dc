package io.dockgate.gateway.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.config.DaemonConfig;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.gateway.request.DockerJson;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The guarded Docker Engine, as dockgate reaches it: a Unix socket or TCP with mutual TLS. Each caller
 * identity gets a pool of keep-alive connections of its own (a connection is never shared between two
 * identities, so nothing one caller leaves on a connection can reach another's request); the daemon's own
 * lookups (owners of targets, image users) use a pool of their own. Hijacked streams (attach, exec) get a
 * fresh raw connection each.
 */
public final class Upstream {
    /**
     * Connections per identity at once: a stream (events, logs -f, wait) holds one for as long as it is
     * open, so the bound is that of the identity's own connections to dockgate
     * (--max-connections-per-identity, 512 by default), not a small pool that streams could exhaust.
     */
    private static final int POOL_SIZE = 1024;
    /** The identity of the daemon's own lookups. */
    private static final String DAEMON = "\u0000dockgate";

    private final Vertx vertx;
    private final DaemonConfig.Upstream config;
    private final SocketAddress address;
    private final Map<String, HttpClient> clients = new ConcurrentHashMap<>();
    private final NetClient raw;
    /** The event loop the daemon's own lookups run on. */
    private final io.vertx.core.Context lookups;

    public Upstream(Vertx vertx, DaemonConfig.Upstream config) {
        this.vertx = vertx;
        this.config = config;
        this.address = config.socket().map(p -> SocketAddress.domainSocketAddress(p.toString()))
                .orElseGet(() -> SocketAddress.inetSocketAddress(config.port(), config.host().orElseThrow()));
        NetClientOptions netOptions = new NetClientOptions().setConnectTimeout(10_000);
        tls(netOptions);
        this.raw = vertx.createNetClient(netOptions);
        this.lookups = ((io.vertx.core.internal.VertxInternal) vertx).createEventLoopContext();
    }

    private void tls(io.vertx.core.net.ClientOptionsBase options) {
        config.tls().ifPresent(t -> {
            options.setSsl(true)
                    .setKeyCertOptions(new PemKeyCertOptions().setCertPath(t.cert().toString()).setKeyPath(t.key().toString()))
                    .setTrustOptions(new PemTrustOptions().addCertPath(t.caCert().toString()));
            if (options instanceof NetClientOptions n) {
                n.setHostnameVerificationAlgorithm("HTTPS");
            }
        });
    }

    /** The upstream's address as configured (for logs and errors). */
    public String describe() {
        return config.toString();
    }

    /** The pooled client of one identity (its owner key). */
    HttpClient client(String identity) {
        return clients.computeIfAbsent(identity, k -> {
            HttpClientOptions options = new HttpClientOptions().setConnectTimeout(10_000).setKeepAlive(true)
                    .setKeepAliveTimeout(30).setDecompressionSupported(false);
            tls(options);
            if (config.tls().isPresent()) {
                options.setVerifyHost(true);
            }
            return vertx.createHttpClient(options, new PoolOptions().setHttp1MaxSize(POOL_SIZE));
        });
    }

    /** Request options aimed at the upstream (socket or host and port), with Docker's Host header. */
    RequestOptions options(HttpMethod method, String uri) {
        RequestOptions o = new RequestOptions().setMethod(method).setURI(uri).setServer(address)
                .setFollowRedirects(false);
        if (config.socket().isPresent()) {
            o.setHost("docker").setPort(80); // the Host header dockerd's clients send on its socket
        } else {
            o.setHost(config.host().orElseThrow()).setPort(config.port());
        }
        return o;
    }

    /** A raw connection for a hijacked stream. */
    Future<NetSocket> connectRaw() {
        return raw.connect(address).recover(e -> Future.failedFuture(unreachable(e)));
    }

    /** The Host header of raw requests. */
    String hostHeader() {
        return config.socket().isPresent() ? "docker" : config.host().orElseThrow() + ":" + config.port();
    }

    /**
     * GET of a JSON document on the daemon's own connections: 200 → the document, 404 → empty (null), any
     * other answer → failed with the upstream's message.
     */
    public Future<JsonNode> getJson(String uri) {
        return client(DAEMON).request(options(HttpMethod.GET, uri))
                .compose(req -> req.send())
                .compose(resp -> resp.body().map(body -> {
                    if (resp.statusCode() == 404) {
                        return (JsonNode) null;
                    }
                    if (resp.statusCode() / 100 != 2) {
                        throw new EngineException(ErrorKind.BAD_GATEWAY, "the upstream answered " + resp.statusCode() + " to GET "
                                + uri + ": " + message(body));
                    }
                    try {
                        return DockerJson.MAPPER.readTree(body.getBytes());
                    } catch (java.io.IOException e) {
                        throw new EngineException(ErrorKind.BAD_GATEWAY, "the upstream sent invalid JSON for " + uri);
                    }
                }))
                .recover(e -> Future.failedFuture(e instanceof EngineException ? e : unreachable(e)));
    }

    /** An answer read whole: its status and body. */
    record Answer(int status, Buffer body) {
        boolean ok() {
            return status / 100 == 2;
        }

        JsonNode json() {
            try {
                return body.length() == 0 ? null : DockerJson.MAPPER.readTree(body.getBytes());
            } catch (java.io.IOException e) {
                throw new EngineException(ErrorKind.BAD_GATEWAY, "the upstream sent invalid JSON");
            }
        }
    }

    /** A request without a body on the daemon's own connections, its answer read whole (bounded by the caller's use: small answers). */
    Future<Answer> call(HttpMethod method, String uri) {
        return client(DAEMON).request(options(method, uri))
                .compose(req -> req.send())
                .compose(resp -> resp.body().map(body -> new Answer(resp.statusCode(), body)))
                .recover(e -> Future.failedFuture(e instanceof EngineException ? e : unreachable(e)));
    }

    /** The same, waiting (worker threads only: the authorizer's lookups). */
    public JsonNode getJsonBlocking(String uri) {
        // the exchange runs on an event loop: a response whose body handler were set from this thread could
        // deliver its end before the handler is in place, and the body would never complete
        java.util.concurrent.CompletableFuture<JsonNode> result = new java.util.concurrent.CompletableFuture<>();
        lookups.runOnContext(v -> getJson(uri).onComplete(ar -> {
            if (ar.succeeded()) {
                result.complete(ar.result());
            } else {
                result.completeExceptionally(ar.cause());
            }
        }));
        try {
            return result.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new EngineException(ErrorKind.BAD_GATEWAY, e.getCause().toString());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new EngineException(ErrorKind.BAD_GATEWAY, "the upstream " + describe() + " did not answer GET " + uri + " in 30 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(ErrorKind.BAD_GATEWAY, "interrupted waiting for the upstream");
        }
    }

    /** Docker's error message in an upstream's answer, or the text itself. */
    static String message(Buffer body) {
        try {
            JsonNode n = DockerJson.MAPPER.readTree(body.getBytes());
            if (n != null && n.hasNonNull("message")) {
                return n.get("message").asText();
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not JSON
        }
        return body.toString().trim();
    }

    /** The error of an upstream that could not be reached (Docker's JSON error with 502). */
    EngineException unreachable(Throwable cause) {
        return new EngineException(ErrorKind.BAD_GATEWAY, "the upstream Docker engine " + describe() + " cannot be reached: "
                + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()));
    }

    public Future<Void> close() {
        Future<Void> all = raw.close();
        for (HttpClient c : clients.values()) {
            all = all.eventually(c::close);
        }
        return all;
    }
}
