package io.dockgate.gateway.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.gateway.audit.AuditLog;
import io.dockgate.gateway.auth.Principal;
import io.dockgate.gateway.authz.Access;
import io.dockgate.gateway.authz.Authorizer;
import io.dockgate.gateway.authz.Decision;
import io.dockgate.gateway.authz.Facts;
import io.dockgate.gateway.authz.Limiter;
import io.dockgate.gateway.authz.RequestFacts;
import io.dockgate.gateway.authz.Subjects;
import io.dockgate.gateway.authz.Target;
import io.dockgate.gateway.listen.ConnectionInfo;
import io.dockgate.gateway.listen.ConnectionRegistry;
import io.dockgate.gateway.request.ApiVersion;
import io.dockgate.gateway.request.CanonicalPath;
import io.dockgate.gateway.request.DockerJson;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The request pipeline, assembled here and nowhere else. In order:
 * <ol>
 *   <li>request id and the Docker headers every response carries;</li>
 *   <li>authenticate: the principal of the connection (certificate or SO_PEERCRED); a connection beyond its
 *       identity's connection limit gets 429 and is closed;</li>
 *   <li>canonicalise: the path decoded once into segments, the version prefix checked;</li>
 *   <li>route: the operation named by the catalog, or 404 {@code page not found};</li>
 *   <li>authorize, phase one: may this caller do this operation at all (before any body is read);</li>
 *   <li>read and interpret the body (in full, up to the limit; JSON keys case-insensitive, duplicates
 *       refused; a create body translated into the engine's spec);</li>
 *   <li>authorize, phase two: constraints on that body, quotas, ownership of the target; rate and
 *       stream limits;</li>
 *   <li>audit: the decision is written to the hash-chained log before anything else happens;</li>
 *   <li>handler: translate and delegate to the engine; the outcome is audited when the response ends
 *       (or at the upgrade of a hijacked stream).</li>
 * </ol>
 * A request refused at any step gets Docker's JSON error through {@link ErrorResponses} after its
 * decision is in the audit log.
 */
public final class RequestPipeline implements Handler<HttpServerRequest> {
    /** The rule of a refusal on a connection over its identity's connection limit (the connection is then closed). */
    static final String CONNECTION_LIMIT = "connection-limit";

    private final ConnectionRegistry connections;
    private final OperationCatalog catalog;
    private final DockerHeaders headers;
    private final GatewayStats stats;
    private final Authorizer authorizer;
    private final Limiter limiter;
    private final Facts facts;
    private final AuditLog audit;
    private final long maxBodyBytes;
    /** The labels the daemon sets and clients may not: its owner label and its build-step label, and in upstream mode its owner label there. */
    private volatile java.util.Set<String> reservedLabels = java.util.Set.of(Authorizer.OWNER_LABEL,
            io.dockgate.engine.build.Builder.BUILD_LABEL);
    private final AtomicLong sequence = new AtomicLong();
    private volatile RequestObserver observer = RequestObserver.NONE;
    private final String idPrefix = Long.toHexString(System.currentTimeMillis() & 0xffffffL);

    public RequestPipeline(ConnectionRegistry connections, OperationCatalog catalog, DockerHeaders headers, GatewayStats stats,
                           Authorizer authorizer, Limiter limiter, Facts facts, AuditLog audit, long maxBodyBytes) {
        this.connections = connections;
        this.catalog = catalog;
        this.headers = headers;
        this.stats = stats;
        this.authorizer = authorizer;
        this.limiter = limiter;
        this.facts = facts;
        this.audit = audit;
        this.maxBodyBytes = maxBodyBytes;
    }

    @Override
    public void handle(HttpServerRequest http) {
        String id = idPrefix + "-" + Long.toHexString(sequence.incrementAndGet());
        stats.received();
        http.pause(); // nothing is read before the route decides what to do with the body
        HttpServerResponse response = http.response();
        headers.apply(response);
        ConnectionInfo connection = connections.get(http.connection());
        if (connection != null) {
            connection.requestStarted();
        }
        AuditTrail trail = new AuditTrail(audit, id, http, status -> {
            if (connection != null) {
                connection.requestEnded(status == 101);
            }
        });
        response.endHandler(v -> trail.outcome(response.getStatusCode(), response.bytesWritten(), false));
        response.closeHandler(v -> trail.outcome(response.getStatusCode(), response.bytesWritten(), true));

        Future<Principal> principal = connection != null ? connection.principal()
                : Future.failedFuture(new EngineException(ErrorKind.UNAUTHENTICATED, "unknown connection"));
        principal
                .recover(e -> Future.failedFuture(new EngineException(ErrorKind.UNAUTHENTICATED,
                        "caller could not be identified: " + e.getMessage())))
                .compose(p -> {
                    trail.principal(p);
                    Optional<String> tooMany = connection.refusal();
                    if (tooMany.isPresent()) {
                        return Future.failedFuture(new Refusal(new Decision(false, true, CONNECTION_LIMIT, tooMany.get(), false,
                                Optional.empty(), Subjects.ownerKey(p)), new EngineException(ErrorKind.RESOURCE_EXHAUSTED, tooMany.get())));
                    }
                    return dispatch(id, http, p, trail);
                })
                .onFailure(e -> refuse(http, trail, e));
    }

    /** Adds a label clients may not set (upstream mode's owner label). */
    public void reserveLabel(String label) {
        java.util.Set<String> more = new java.util.HashSet<>(reservedLabels);
        more.add(label);
        reservedLabels = java.util.Set.copyOf(more);
    }

    /** Watches decisions and handlers (tests: the judged model is the executed one). */
    public void observe(RequestObserver observer) {
        this.observer = observer;
    }

    /**
     * Whether a raw request target names a route that may hijack its connection (attach, exec start):
     * the framing guard asks, so that it classifies with the router's own code.
     */
    public boolean mayHijack(String rawTarget) {
        try {
            int q = rawTarget.indexOf('?');
            CanonicalPath path = CanonicalPath.parse(q >= 0 ? rawTarget.substring(0, q) : rawTarget);
            return catalog.find("POST", path).map(m -> m.operation().hijacks()).orElse(false);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Audits a request the framing guard refused before it became an HTTP request. */
    public void framingRefused(ConnectionInfo connection, String requestLine, String reason) {
        Principal p = connection.principal().result();
        audit.record(new io.dockgate.gateway.audit.AuditRecord.FramingRefusal(AuditLog.now(),
                idPrefix + "-" + Long.toHexString(sequence.incrementAndGet()), connection.remote(), p,
                requestLine, reason));
    }

    /** Sends an error; when no decision was audited yet, the refusal is the decision and is audited first. */
    private void refuse(HttpServerRequest http, AuditTrail trail, Throwable e) {
        if (trail.decided()) {
            http.resume();
            ErrorResponses.send(http.response(), http.method(), trail.id(), e);
            return;
        }
        int status = e instanceof EngineException ee ? ErrorResponses.status(ee.kind()) : 500;
        String reason = e instanceof EngineException ? e.getMessage() : "internal error";
        String rule = "request-model";
        if (e instanceof Refusal r) {
            rule = r.decision.rule();
            reason = r.decision.reason();
        }
        boolean overLimit = rule.equals(CONNECTION_LIMIT);
        trail.decision("deny", rule, reason, status).onComplete(w -> {
            if (bodyPending(http) || overLimit || declaredEmptyBody(http)) {
                http.response().putHeader(HttpHeaders.CONNECTION, "close");
                HttpServerResponse response = http.response();
                response.endHandler(v -> {
                    trail.outcome(response.getStatusCode(), response.bytesWritten(), false);
                    closeAfterBody(http);
                });
            }
            http.resume();
            ErrorResponses.send(http.response(), http.method(), trail.id(), e);
        });
    }

    /**
     * Closes a connection whose request body was refused unread: after the rest of the body arrived (read
     * and dropped) or two seconds, so that closing with unread data (a TCP reset) does not destroy the
     * response on its way to the client.
     */
    private static void closeAfterBody(HttpServerRequest http) {
        if (http.isEnded()) {
            http.connection().close();
            return;
        }
        http.handler(chunk -> { });
        http.endHandler(v -> http.connection().close());
        io.vertx.core.Vertx.currentContext().owner().setTimer(2000, t -> http.connection().close());
    }

    /**
     * A refused POST or PUT that declared an empty body: bytes sent after it (a body behind
     * {@code Content-Length: 0}) would sit on the connection as the start of a request that never ends,
     * so the connection is closed after the refusal.
     */
    private static boolean declaredEmptyBody(HttpServerRequest http) {
        return (http.method() == io.vertx.core.http.HttpMethod.POST || http.method() == io.vertx.core.http.HttpMethod.PUT)
                && "0".equals(http.headers().get(HttpHeaders.CONTENT_LENGTH));
    }

    private static boolean bodyPending(HttpServerRequest http) {
        return !http.isEnded() && (http.headers().contains(HttpHeaders.TRANSFER_ENCODING)
                || !"0".equals(http.headers().get(HttpHeaders.CONTENT_LENGTH)) && http.headers().contains(HttpHeaders.CONTENT_LENGTH));
    }

    private Future<?> dispatch(String id, HttpServerRequest http, Principal principal, AuditTrail trail) {
        String uri = http.uri();
        int q = uri.indexOf('?');
        String rawPath = q >= 0 ? uri.substring(0, q) : uri;
        CanonicalPath path = CanonicalPath.parse(rawPath);
        ApiVersion version = path.version().map(ApiVersion::requireSupported).orElse(ApiVersion.MAX);
        Optional<OperationCatalog.Match> match = catalog.find(http.method().name(), path);
        if (match.isEmpty()) {
            throw EngineException.notFound("page not found");
        }
        OperationCatalog.Match m = match.get().withQueryTarget(http::getParam);
        Operation operation = m.operation();
        trail.operation(operation.name(), m.params());
        if (operation.hijacks()) {
            // the framing guard stopped parsing this connection: it must not carry another request
            http.response().putHeader(HttpHeaders.CONNECTION, "close");
        }
        stats.routed();

        Authorizer.Candidates candidates = authorizer.candidates(principal, operation.name());
        Optional<Decision> early = authorizer.early(candidates, principal, operation.name());
        if (early.isPresent() && early.get().refuses()) {
            return deny(early.get(), m);
        }
        boolean json = operation.body() == Operation.Body.JSON;
        Future<byte[]> body = json ? BodyReader.read(http, maxBodyBytes) : Future.succeededFuture(new byte[0]);
        return body.<Object>compose(bytes -> {
            Body parsed = json ? Body.of(operation, bytes, reservedLabels) : operation.model() != null ? Body.ofQuery(operation, http) : Body.NONE;
            Map<String, String> query = new HashMap<>();
            http.params().forEach(query::putIfAbsent);
            query.putAll(m.params());
            RequestFacts requestFacts = new RequestFacts(parsed.json(), parsed.model(), query, facts);
            // host paths in a body are resolved on disk (symlinks), and an upstream's facts are asked for over
            // its API: those decisions run on a worker
            boolean needsFacts = operation.target() != Target.Kind.NONE || operation.judge() != io.dockgate.gateway.authz.Judge.NOTHING;
            java.util.concurrent.Callable<Judged> judge = () -> {
                Target target = candidates.unrestricted() ? Target.NONE : facts.target(operation.target(), m.params(), candidates.owner());
                return new Judged(authorizer.decide(candidates, principal, operation.name(), operation.judge(), requestFacts, target),
                        target);
            };
            Future<Judged> judged = !candidates.unrestricted()
                    && (operation.hostPaths() || operation.judge().readsImages() || facts.blocking() && needsFacts)
                    ? io.vertx.core.Vertx.currentContext().owner().executeBlocking(judge, false)
                    : Future.succeededFuture(call(judge));
            Routed routed = new Routed(id, http, principal, path, version, m, trail);
            return judged.compose(j -> {
                observer.judged(operation, parsed.model());
                return authorized(routed, parsed, j.decision(), j.target());
            });
        });
    }

    /** A decision with the target it was taken on. */
    private record Judged(Decision decision, Target target) {
    }

    private static <T> T call(java.util.concurrent.Callable<T> c) {
        try {
            return c.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A request after routing: what the steps after the decision need. */
    private record Routed(String id, HttpServerRequest http, Principal principal, CanonicalPath path, ApiVersion version,
                          OperationCatalog.Match match, AuditTrail trail) {
    }

    /**
     * A JSON body as parsed once (strict rules) and translated once into the operation's model: the object
     * both the authorizer and the handler get. A body the engine could not run is still judged on its JSON
     * first (a caller refused by the policy learns nothing more); an allowed caller then gets the reason.
     */
    private record Body(JsonNode json, Object model, EngineException untranslatable) {
        static final Body NONE = new Body(null, null, null);

        /** A streamed body's request from the query: each parameter as text, a repeated one as an array. */
        static Body ofQuery(Operation operation, HttpServerRequest http) {
            com.fasterxml.jackson.databind.node.ObjectNode q = DockerJson.MAPPER.createObjectNode();
            for (String name : http.params().names()) {
                List<String> values = http.params().getAll(name);
                if (values.size() == 1) {
                    q.put(name, values.get(0));
                } else {
                    values.forEach(q.putArray(name)::add);
                }
            }
            try {
                return new Body(q, operation.model().apply(q), null);
            } catch (EngineException e) {
                return new Body(q, null, e);
            }
        }

        static Body of(Operation operation, byte[] bytes, java.util.Set<String> reservedLabels) {
            JsonNode json = DockerJson.parse(bytes);
            if (operation.stampsOwner()) {
                refuseOwnerLabel(json, reservedLabels);
            }
            try {
                return new Body(json, operation.model().apply(json), null);
            } catch (EngineException e) {
                return new Body(json, null, e);
            }
        }
    }

    /** After the decision: refusal, limits, the decision record, then the handler. */
    private Future<Object> authorized(Routed r, Body body, Decision decision, Target target) {
        HttpServerRequest http = r.http();
        OperationCatalog.Match m = r.match();
        AuditTrail trail = r.trail();
        Operation operation = m.operation();
        if (decision.refuses()) {
            return deny(decision, m);
        }
        if (body.untranslatable() != null) {
            return Future.failedFuture(body.untranslatable());
        }
        boolean stream = operation.streaming().holdsOpen(http::getParam);
        Runnable release = () -> { };
        if (decision.allowed() && decision.binding().isPresent()) {
            var limits = decision.binding().get().limits();
            Optional<String> rate = limiter.admit(decision.owner(), limits);
            if (rate.isPresent()) {
                return refuseLimit(decision, rate.get());
            }
            if (stream) {
                Optional<Runnable> opened = limiter.openStream(decision.owner(), limits);
                if (opened.isEmpty()) {
                    return refuseLimit(decision, "limit of " + limits.streams().getAsLong()
                            + " concurrent streams reached");
                }
                release = opened.get();
            }
        }
        Runnable releaseStream = release;
        trail.onEnd(releaseStream);
        ConnectionInfo info = connections.get(http.connection());
        if (stream && info != null && info.channel() != null) {
            info.channel().closeFuture().addListener(f -> releaseStream.run()); // hijacked streams end with their connection
        }
        return trail.decision(decision.decisionWord(), decision.rule(), decision.reason(), 0).<Object>compose(w -> {
            ApiRequest request = new ApiRequest(r.id(), http, r.principal(), r.path(), r.version(), m.route(), operation,
                    judgedParams(m, decision, target), body.model(), body.json(), target, new Access(decision, authorizer, r.principal()));
            request.onHijack(() -> trail.outcome(101, 0, false));
            request.onBuild(trail::build);
            if (operation.body() == Operation.Body.NONE) {
                http.resume(); // a body sent to a route without one is read and dropped
            }
            observer.handling(operation, request);
            return m.handler().handle(request).map(x -> (Object) x);
        });
    }

    /**
     * The path parameters the handler acts on: for a caller scoped to its own objects whose target was found
     * by its full ID (an ID prefix others' containers share, resolved to the caller's one), that ID.
     */
    private static Map<String, String> judgedParams(OperationCatalog.Match m, Decision decision, Target target) {
        String param = m.operation().target().param();
        if (!decision.ownScope() || target.id().isEmpty() || param == null || !m.params().containsKey(param)) {
            return m.params();
        }
        Map<String, String> params = new HashMap<>(m.params());
        params.put(param, target.id().get());
        return Map.copyOf(params);
    }

    /** Owner labels are stamped by the daemon; one sent by a client (in any case) is refused. */
    private static void refuseOwnerLabel(JsonNode json, java.util.Set<String> reservedLabels) {
        Map<String, String> labels = DockerJson.stringMap(json, "Labels");
        if (labels != null) {
            for (String key : labels.keySet()) {
                for (String own : reservedLabels) {
                    if (key.equalsIgnoreCase(own)) {
                        throw new EngineException(ErrorKind.PERMISSION_DENIED,
                                "authorization denied by dockgate: the label " + own + " is set by the daemon");
                    }
                }
            }
        }
    }

    private <T> Future<T> deny(Decision decision, OperationCatalog.Match m) {
        EngineException error;
        if (decision.notFound() && m.operation().target() == Target.Kind.NONE) {
            error = EngineException.notFound(decision.reason()); // an image missing to the caller: the reason is Docker's words
        } else if (decision.notFound()) {
            error = m.operation().target().notFound(m.params());
        } else {
            error = new EngineException(ErrorKind.PERMISSION_DENIED, "authorization denied by dockgate: " + decision.reason());
        }
        return Future.failedFuture(new Refusal(decision, error));
    }

    private <T> Future<T> refuseLimit(Decision decision, String reason) {
        return Future.failedFuture(new Refusal(new Decision(false, true, decision.rule(), reason, false, decision.binding(),
                decision.owner()), new EngineException(ErrorKind.RESOURCE_EXHAUSTED, reason)));
    }

    /** A refusal by the authorizer or a limit: audited with its rule, then answered. */
    static final class Refusal extends EngineException {
        final Decision decision;

        Refusal(Decision decision, EngineException error) {
            super(error.kind(), error.getMessage());
            this.decision = decision;
        }
    }
}
