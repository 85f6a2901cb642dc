package io.dockgate.gateway.http;

import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.gateway.auth.Principal;
import io.dockgate.gateway.listen.ConnectionInfo;
import io.dockgate.gateway.listen.ConnectionRegistry;
import io.dockgate.gateway.request.ApiVersion;
import io.dockgate.gateway.request.CanonicalPath;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The request pipeline, assembled here and nowhere else. In order:
 * <ol>
 *   <li>request id and the Docker headers every response carries;</li>
 *   <li>authenticate: the principal of the connection (certificate or SO_PEERCRED);</li>
 *   <li>canonicalise: the path decoded once into segments, the version prefix checked;</li>
 *   <li>route: the operation named by the catalog, or 404 {@code page not found};</li>
 *   <li>handler: translate and delegate to the engine;</li>
 *   <li>access log: one line when the response ends, naming the principal.</li>
 * </ol>
 * Failures at any step become Docker's JSON error through {@link ErrorResponses}.
 */
public final class RequestPipeline implements Handler<HttpServerRequest> {
    private final ConnectionRegistry connections;
    private final OperationCatalog catalog;
    private final DockerHeaders headers;
    private final GatewayStats stats;
    private final AtomicLong sequence = new AtomicLong();
    private final String idPrefix = Long.toHexString(System.currentTimeMillis() & 0xffffffL);
    private final long maxBodyBytes = 4L << 20;

    public RequestPipeline(ConnectionRegistry connections, OperationCatalog catalog, DockerHeaders headers, GatewayStats stats) {
        this.connections = connections;
        this.catalog = catalog;
        this.headers = headers;
        this.stats = stats;
    }

    @Override
    public void handle(HttpServerRequest http) {
        long start = System.nanoTime();
        String id = idPrefix + "-" + Long.toHexString(sequence.incrementAndGet());
        stats.received();
        http.pause(); // nothing is read before the route decides what to do with the body
        HttpServerResponse response = http.response();
        headers.apply(response);
        Map<String, Object> log = new LinkedHashMap<>();
        log.put("time", Instant.now().toString());
        log.put("id", id);
        log.put("remote", String.valueOf(http.remoteAddress()));
        log.put("method", http.method().name());
        log.put("uri", http.uri());
        response.endHandler(v -> finish(log, response, start));
        response.closeHandler(v -> {
            if (!log.containsKey("status")) {
                log.put("closed", true);
            }
            finish(log, response, start);
        });

        ConnectionInfo connection = connections.get(http.connection());
        Future<Principal> principal = connection != null ? connection.principal()
                : Future.failedFuture(new EngineException(ErrorKind.UNAUTHENTICATED, "unknown connection"));
        principal
                .recover(e -> Future.failedFuture(new EngineException(ErrorKind.UNAUTHENTICATED,
                        "caller could not be identified: " + e.getMessage())))
                .compose(p -> {
                    log.put("principal", p.describe());
                    return dispatch(id, http, p, log);
                })
                .onFailure(e -> {
                    http.resume();
                    ErrorResponses.send(response, http.method(), id, e);
                });
    }

    private Future<?> dispatch(String id, HttpServerRequest http, Principal principal, Map<String, Object> log) {
        String uri = http.uri();
        int q = uri.indexOf('?');
        String rawPath = q >= 0 ? uri.substring(0, q) : uri;
        CanonicalPath path = CanonicalPath.parse(rawPath);
        ApiVersion version = path.version().map(ApiVersion::requireSupported).orElse(ApiVersion.MAX);
        Optional<OperationCatalog.Match> match = catalog.find(http.method().name(), path);
        if (match.isEmpty()) {
            throw EngineException.notFound("page not found");
        }
        OperationCatalog.Match m = match.get();
        log.put("operation", m.route().operation());
        stats.routed();
        long start = System.nanoTime();
        if (m.route().readsBody()) {
            return BodyReader.read(http, maxBodyBytes).compose(body -> {
                ApiRequest request = new ApiRequest(id, http, principal, path, version, m.route(), m.params(), body);
                request.onHijack(() -> hijacked(log, start));
                return m.handler().handle(request);
            });
        }
        ApiRequest request = new ApiRequest(id, http, principal, path, version, m.route(), m.params(), new byte[0]);
        request.onHijack(() -> hijacked(log, start));
        if (!m.route().streamsBody()) {
            http.resume(); // a body sent to a route without one is read and dropped
        }
        return m.handler().handle(request);
    }

    private static void hijacked(Map<String, Object> log, long start) {
        if (log.containsKey("status")) {
            return;
        }
        log.put("status", 101);
        log.put("ms", (System.nanoTime() - start) / 1_000_000.0);
        AccessLog.write(log);
    }

    private static void finish(Map<String, Object> log, HttpServerResponse response, long start) {
        if (log.containsKey("status")) {
            return;
        }
        log.put("status", response.getStatusCode());
        log.put("bytes", response.bytesWritten());
        log.put("ms", (System.nanoTime() - start) / 1_000_000.0);
        AccessLog.write(log);
    }
}
