package io.dockgate.gateway.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.gateway.http.ApiHandler;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.http.Operation;
import io.dockgate.gateway.request.ApiVersion;
import io.dockgate.gateway.request.DockerJson;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The handler of every route in upstream mode: the request the pipeline judged, forwarded. The path is
 * rebuilt from the route and its decoded parameters, the query from its decoded parameters, a JSON body
 * from the document the authorizer judged (re-serialised, with the owner label stamped where the
 * operation creates an owned object); only the headers Docker's API reads pass. Streamed bodies and
 * responses flow through with back-pressure, never buffered; hijacked streams go through
 * {@link HijackRelay}. The upstream's answers, errors included, go back as they came, with the API
 * version the lower of the two.
 */
public final class Forwarder implements ApiHandler {
    /** Request headers Docker's API reads; everything else stays here. */
    private static final Set<String> REQUEST_HEADERS = Set.of("content-type", "x-registry-auth", "x-registry-config",
            "user-agent", "accept");
    /** Response headers that belong to one hop. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "transfer-encoding", "content-length",
            "upgrade", "proxy-authenticate", "proxy-connection", "te", "trailer");

    private final Upstream upstream;
    private final Tenancy tenancy;
    private final BuildRelay builds;
    private final ImageRelay images;

    /**
     * @param workDir    where build contexts are received and judged before they go to the upstream
     * @param maxContext the largest build context ({@code --max-build-context})
     */
    public Forwarder(Upstream upstream, Tenancy tenancy, java.nio.file.Path workDir, long maxContext) {
        this.upstream = upstream;
        this.tenancy = tenancy;
        this.images = new ImageRelay(upstream, new UpstreamState(tenancy.images(), tenancy.anonymous()));
        this.builds = new BuildRelay(upstream, images, workDir, maxContext);
    }

    @Override
    public Future<Void> handle(ApiRequest request) {
        Operation op = request.descriptor();
        String uri = uri(request);
        if (op.hijacks()) {
            return HijackRelay.relay(upstream, request, uri, jsonBody(request));
        }
        if (op.name().equals("image.build")) {
            return builds.relay(request, uri);
        }
        if (images.carriesOut(request)) {
            return images.carryOut(request);
        }
        if (op.name().equals("system.ping")) {
            Ping p = pings.get(pingKey(request));
            if (p != null && System.nanoTime() - p.at() < PING_FRESH_NANOS) {
                return answerPing(request, p);
            }
        }
        HttpMethod method = request.method();
        RequestOptions options = upstream.options(method, uri);
        copyRequestHeaders(request.http().headers(), options);
        Future<Void> before = op.name().equals("container.create") ? createNamedVolumes(request) : images.before(request);
        return before.compose(v -> upstream.client(request.access().owner()).request(options))
                .recover(e -> Future.failedFuture(e instanceof EngineException ? e : upstream.unreachable(e)))
                .compose(out -> send(request, op, out))
                .compose(resp -> relay(request, resp));
    }

    /**
     * The named volumes a create mounts that do not exist yet are created first, labelled with the caller
     * as their owner (the embedded engine's rule: a volume made on the way is the container's owner's);
     * dockerd would create them without an owner. One that exists was judged already.
     */
    private Future<Void> createNamedVolumes(ApiRequest request) {
        if (!(request.model(Object.class) instanceof io.dockgate.engine.container.ContainerSpec spec)) {
            return Future.succeededFuture();
        }
        Future<Void> chain = Future.succeededFuture();
        for (var m : spec.host().mountsOrEmpty()) {
            if (!m.type().equals(io.dockgate.engine.container.ContainerSpec.Mount.VOLUME) || m.source() == null || m.source().isEmpty()) {
                continue;
            }
            String name = m.source();
            chain = chain.compose(v -> upstream.getJson("/volumes/" + encode(name))).compose(existing -> {
                if (existing != null) {
                    return Future.succeededFuture();
                }
                com.fasterxml.jackson.databind.node.ObjectNode body = DockerJson.MAPPER.createObjectNode().put("Name", name);
                body.putObject("Labels").put(Tenancy.OWNER_LABEL, request.access().owner());
                return upstream.client(request.access().owner()).request(upstream.options(HttpMethod.POST, "/volumes/create"))
                        .compose(out -> out.putHeader(HttpHeaders.CONTENT_TYPE, "application/json").send(body.toString()))
                        .compose(resp -> resp.body().compose(b -> resp.statusCode() == 201 || resp.statusCode() == 200
                                ? Future.<Void>succeededFuture().onSuccess(x -> tenancy.ownership().created(Ownership.Kind.VOLUME, name, null,
                                        request.access().owner()))
                                : Future.<Void>failedFuture(new EngineException(ErrorKind.BAD_GATEWAY, "the upstream refused to create the volume "
                                        + name + ": " + Upstream.message(b)))));
            });
        }
        return chain;
    }

    private Future<HttpClientResponse> send(ApiRequest request, Operation op, HttpClientRequest out) {
        Future<HttpClientResponse> sent;
        if (op.body() == Operation.Body.JSON) {
            Buffer body = jsonBody(request);
            out.putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
            sent = out.send(body);
        } else if (op.body() == Operation.Body.STREAM) {
            String length = request.http().getHeader(HttpHeaders.CONTENT_LENGTH);
            if (length != null) {
                out.putHeader(HttpHeaders.CONTENT_LENGTH, length);
            } else {
                out.setChunked(true);
            }
            UpstreamImages.View view = images.view(request);
            if (op.name().equals("image.load") && !view.common()) {
                // a tenant's archive: its names judged before the upstream may take its end
                Throwable[] refused = {null};
                GatedLoad gated = new GatedLoad(request.http(), naming -> images.mayLoad(view, naming), e -> {
                    refused[0] = e;
                    out.reset(0, e);
                });
                return upload(gated, out).recover(e -> Future.failedFuture(refused[0] != null ? refused[0]
                        : e instanceof EngineException ? e : upstream.unreachable(e)));
            }
            sent = upload(request.http(), out);
        } else {
            sent = out.send();
        }
        return sent.recover(e -> Future.failedFuture(e instanceof EngineException ? e : upstream.unreachable(e)));
    }

    /**
     * A streamed body sent on with back-pressure. A client that breaks off resets the upstream's request:
     * Vert.x's {@code send(ReadStream)} would end it instead (a chunked body's last chunk), and the upstream
     * would take a truncated archive that ends between entries as whole (a load, a {@code cp}, an import).
     */
    private static Future<HttpClientResponse> upload(io.vertx.core.streams.ReadStream<Buffer> body, HttpClientRequest out) {
        body.pipe().endOnFailure(false).to(out).onFailure(e -> out.reset(0, e));
        return out.response();
    }

    /**
     * The upstream's answer to /_ping, kept for a second: clients ping before everything (the docker CLI
     * once per command, some libraries on every request), and a ping has no effect an answer from a
     * second ago would miss; an upstream that went down in that second fails the request that follows.
     * Kept per API version in the path: the upstream refuses a version it does not serve (dockerd 20.10
     * answers /v1.44/_ping with 400, and Testcontainers falls back to 1.32 on that answer only), so an
     * answer to one version says nothing of another. The versions are the bounded range this daemon
     * accepts, so is the map.
     */
    private record Ping(io.vertx.core.MultiMap headers, long at) {
    }

    private static final long PING_FRESH_NANOS = 1_000_000_000L;
    private final java.util.concurrent.ConcurrentHashMap<String, Ping> pings = new java.util.concurrent.ConcurrentHashMap<>();

    private static String pingKey(ApiRequest request) {
        return request.path().version().map(String::valueOf).orElse("");
    }

    private static Future<Void> answerPing(ApiRequest request, Ping p) {
        HttpServerResponse response = request.response().setStatusCode(200);
        copyResponseHeaders(p.headers(), response);
        if (request.method() == HttpMethod.HEAD) {
            return response.putHeader(HttpHeaders.CONTENT_LENGTH, "0").end();
        }
        return response.end("OK");
    }

    private Future<Void> relay(ApiRequest request, HttpClientResponse resp) {
        if (request.operation().equals("system.ping") && resp.statusCode() == 200) {
            io.vertx.core.MultiMap kept = io.vertx.core.MultiMap.caseInsensitiveMultiMap().addAll(resp.headers());
            kept.remove("Date"); // of that answer, not of the next
            pings.put(pingKey(request), new Ping(kept, System.nanoTime()));
        }
        HttpServerResponse response = request.response();
        response.setStatusCode(resp.statusCode());
        copyResponseHeaders(resp.headers(), response);
        if (resp.statusCode() / 100 == 2 && request.access().ownScope()
                && (request.operation().equals("container.create") || request.operation().equals("volume.prune"))) {
            // what the upstream made for the caller without its label (anonymous volumes) recorded, or pruned too
            Tenancy.ResponseFilter f = tenancy.responseFilter(request);
            return resp.body().map(body -> f == null ? body : f.apply(body)).compose(body -> anonymousVolumes(request, body))
                    .compose(response::end);
        }
        if (resp.statusCode() / 100 == 2 && RECORDED.contains(request.operation())) {
            // names made or removed: recorded before the caller hears of it (its next command may use them)
            return resp.body().compose(body -> recorded(request, body)).compose(response::end);
        }
        if (resp.statusCode() / 100 == 2 && (request.operation().equals("image.create") || request.operation().equals("image.load"))) {
            response.setChunked(true);
            response.closeHandler(v -> resp.request().reset());
            return progress(request, resp, response);
        }
        Tenancy.ResponseFilter filter = resp.statusCode() / 100 == 2 ? tenancy.responseFilter(request) : tenancy.errorFilter(request);
        if (filter != null && resp.statusCode() != 204 && resp.statusCode() != 304 && request.method() != HttpMethod.HEAD) {
            // a list or an inspect seen through the caller's rights: read whole (bounded), filtered, sent
            return resp.body().compose(body -> response.end(filter.apply(body)));
        }
        if (request.method() == HttpMethod.HEAD || resp.statusCode() == 204 || resp.statusCode() == 304) {
            String length = resp.getHeader(HttpHeaders.CONTENT_LENGTH);
            if (length != null && request.method() == HttpMethod.HEAD) {
                response.putHeader(HttpHeaders.CONTENT_LENGTH, length);
            }
            return resp.body().compose(b -> response.end());
        }
        String length = resp.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length != null) {
            response.putHeader(HttpHeaders.CONTENT_LENGTH, length);
        } else {
            response.setChunked(true);
            response.writeHead(); // wait, events, logs -f: the client sees the headers at once, as from dockerd
        }
        response.closeHandler(v -> resp.request().reset());
        if (request.operation().equals("system.events")) {
            return relayEvents(request, resp, response);
        }
        return coalescing(resp, response).recover(e -> {
            resp.request().reset();
            return Future.failedFuture(new EngineException(ErrorKind.BAD_GATEWAY, "the upstream's answer broke off: " + e.getMessage()));
        });
    }

    /**
     * The answer's body as it comes, with back-pressure, the pieces that arrive in one read written as one:
     * dockerd flushes every log frame (some 80 bytes) as an HTTP chunk of its own, and relaying each alone
     * would cost a chunk (and its parsing by the client) per frame. Nothing waits longer than the read it
     * came in.
     */
    private static Future<Void> coalescing(HttpClientResponse resp, HttpServerResponse response) {
        io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
        io.vertx.core.Context context = io.vertx.core.Vertx.currentContext();
        Buffer[] pending = {null};
        Runnable flush = () -> {
            Buffer b = pending[0];
            pending[0] = null;
            if (b != null && !response.closed()) {
                response.write(b);
                if (response.writeQueueFull()) {
                    resp.pause();
                    response.drainHandler(v -> resp.resume());
                }
            }
        };
        resp.handler(data -> {
            if (pending[0] == null) {
                pending[0] = Buffer.buffer(Math.max(data.length(), 8192)).appendBuffer(data);
                context.runOnContext(v -> flush.run());
            } else {
                pending[0].appendBuffer(data);
            }
            if (pending[0].length() >= 64 << 10) {
                flush.run();
            }
        });
        resp.exceptionHandler(done::tryFail);
        resp.endHandler(v -> {
            flush.run();
            response.end().onComplete(done);
        });
        return done.future();
    }

    /**
     * A scoped caller's create: the volumes the upstream made for the container (not named by the request)
     * recorded as the caller's. Its volume prune: after the upstream's (of the caller's labelled volumes),
     * the caller's anonymous volumes no container uses are removed too, unless the prune filters on labels.
     */
    private Future<Buffer> anonymousVolumes(ApiRequest request, Buffer body) {
        String owner = request.access().owner();
        AnonymousVolumes anonymous = tenancy.anonymous();
        JsonNode json = new Upstream.Answer(200, body).json();
        if (request.operation().equals("container.create")) {
            List<String> named = new java.util.ArrayList<>();
            if (request.model(Object.class) instanceof io.dockgate.engine.container.ContainerSpec spec) {
                spec.host().mountsOrEmpty().forEach(m -> {
                    if (m.type().equals(io.dockgate.engine.container.ContainerSpec.Mount.VOLUME) && m.source() != null) {
                        named.add(m.source());
                    }
                });
            }
            String id = json == null ? "" : json.path("Id").asText("");
            return upstream.getJson("/containers/" + encode(id) + "/json").map(c -> {
                if (c != null) {
                    anonymous.add(AnonymousVolumes.madeFor(c, named), owner);
                }
                return body;
            }).otherwise(body);
        }
        String filters = request.http().getParam("filters");
        if (filters != null && filters.toLowerCase(Locale.ROOT).contains("label") || json == null) {
            return Future.succeededFuture(body);
        }
        com.fasterxml.jackson.databind.node.ObjectNode answer = (com.fasterxml.jackson.databind.node.ObjectNode) json;
        Future<Void> chain = Future.succeededFuture();
        for (String name : anonymous.ownedBy(owner)) {
            chain = chain.compose(x -> upstream.call(HttpMethod.DELETE, "/volumes/" + encode(name)).map(a -> {
                if (a.ok()) {
                    JsonNode deleted = answer.path("VolumesDeleted");
                    (deleted.isArray() ? (com.fasterxml.jackson.databind.node.ArrayNode) deleted : answer.putArray("VolumesDeleted")).add(name);
                    anonymous.removed(name);
                } else if (a.status() == 404) {
                    anonymous.removed(name);
                }
                return null; // in use (409): kept
            }));
        }
        return chain.map(x -> Buffer.buffer(answer.toString()));
    }

    /** The operations whose (small, whole) answers change the record of image names. */
    private static final Set<String> RECORDED = Set.of("image.tag", "container.commit", "image.delete", "image.prune");

    private Future<Buffer> recorded(ApiRequest request, Buffer body) {
        UpstreamImages.View view = images.view(request);
        JsonNode json = new Upstream.Answer(200, body).json();
        return (switch (request.operation()) {
            case "image.tag" -> {
                String name = ImageRelay.named(request.http().getParam("repo"), request.http().getParam("tag"));
                yield images.made(view, name == null ? List.of() : List.of(name), null);
            }
            case "container.commit" -> {
                String name = ImageRelay.named(request.http().getParam("repo"), request.http().getParam("tag"));
                yield images.made(view, name == null ? List.of() : List.of(name), json == null ? null : json.path("Id").asText(null));
            }
            case "image.delete" -> {
                images.removed(json);
                yield Future.<Void>succeededFuture();
            }
            default -> {
                images.removed(json == null ? null : json.path("ImagesDeleted"));
                yield Future.<Void>succeededFuture();
            }
        }).map(body);
    }

    /**
     * A pull's, import's or load's progress, passed on line by line as it comes, watched for the names made
     * (recorded before the answer ends) and for an error (then nothing is recorded).
     */
    private Future<Void> progress(ApiRequest request, HttpClientResponse resp, HttpServerResponse response) {
        List<String> loaded = new java.util.ArrayList<>();
        String[] id = {null};
        return ProgressRelay.relay(resp, response, m -> {
            String stream = m.path("stream").asText("");
            if (stream.startsWith("Loaded image: ")) {
                loaded.add(stream.substring("Loaded image: ".length()).trim());
            } else if (stream.startsWith("Loaded image ID: ")) {
                id[0] = stream.substring("Loaded image ID: ".length()).trim();
            } else if (m.path("status").asText("").matches("sha256:[0-9a-f]{64}")) {
                id[0] = m.path("status").asText(); // an import's image
            }
        }, failed -> {
            UpstreamImages.View view = images.view(request);
            return failed ? Future.succeededFuture() : request.operation().equals("image.load")
                    ? loadedNames(view, loaded, id[0]) : images.pulled(view, request, id[0]);
        });
    }

    /** A load's names (each maybe another image) and its unnamed image, recorded. */
    private Future<Void> loadedNames(UpstreamImages.View view, List<String> names, String id) {
        Future<Void> chain = Future.succeededFuture();
        for (String n : names) {
            chain = chain.compose(x -> images.made(view, List.of(n), null));
        }
        return id == null ? chain : chain.compose(x -> images.made(view, List.of(), id));
    }

    /**
     * The event stream, one event at a time and in order: each shown only if the caller may see it, without
     * the owner label among its attributes.
     */
    private Future<Void> relayEvents(ApiRequest request, HttpClientResponse resp, HttpServerResponse response) {
        io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
        io.vertx.core.parsetools.RecordParser lines = io.vertx.core.parsetools.RecordParser.newDelimited("\n", resp);
        lines.maxRecordSize(1 << 20);
        Future<Void>[] previous = new Future[] {Future.succeededFuture()};
        lines.handler(line -> {
            JsonNode event;
            try {
                event = DockerJson.MAPPER.readTree(line.getBytes());
            } catch (java.io.IOException e) {
                return; // not an event
            }
            if (event == null || !event.isObject()) {
                return;
            }
            Future<Boolean> visible = tenancy.eventVisible(request, event);
            previous[0] = previous[0].compose(v -> visible).compose(show -> {
                if (show && !response.closed()) {
                    response.write(Tenancy.unlabelEvent(event));
                    if (response.writeQueueFull()) {
                        lines.pause();
                        response.drainHandler(d -> lines.resume());
                    }
                }
                return Future.<Void>succeededFuture();
            });
        });
        lines.exceptionHandler(e -> {
            resp.request().reset();
            done.tryFail(new EngineException(ErrorKind.BAD_GATEWAY, "the upstream's events broke off: " + e.getMessage()));
        });
        lines.endHandler(v -> previous[0].eventually(() -> response.end()).onComplete(done));
        return done.future();
    }

    /** The judged JSON document (stamped with the owner where the operation creates an owned object). */
    private Buffer jsonBody(ApiRequest request) {
        JsonNode json = request.json();
        if (json == null || request.descriptor().body() != Operation.Body.JSON) {
            return Buffer.buffer();
        }
        KnownFields.check(request.operation(), json);
        json = tenancy.stamp(request, json);
        try {
            return Buffer.buffer(DockerJson.MAPPER.writeValueAsBytes(json));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new EngineException(ErrorKind.INTERNAL, "cannot serialise a judged body: " + e.getMessage());
        }
    }

    /** The upstream request target: the version prefix, the route with its parameters, the query. */
    static String uri(ApiRequest request, Map<String, List<String>> query) {
        StringBuilder b = new StringBuilder();
        request.path().version().ifPresent(v -> b.append("/v").append(v));
        for (String part : request.route().parts()) {
            b.append('/');
            if (part.startsWith("{") && part.endsWith("}")) {
                String name = part.substring(1, part.length() - 1);
                boolean rest = name.endsWith("...");
                String param = rest ? name.substring(0, name.length() - 3) : name;
                String value = request.param(param);
                var target = request.target();
                if (param.equals(request.descriptor().target().param()) && target != null && target.id().isPresent()) {
                    value = target.id().get(); // the object judged, not whatever the name means by now
                }
                if (rest) {
                    String[] pieces = value.split("/", -1);
                    for (int i = 0; i < pieces.length; i++) {
                        b.append(i == 0 ? "" : "/").append(encode(pieces[i]));
                    }
                } else {
                    b.append(encode(value));
                }
            } else {
                b.append(part);
            }
        }
        char sep = '?';
        for (Map.Entry<String, List<String>> e : query.entrySet()) {
            for (String v : e.getValue()) {
                b.append(sep).append(encode(e.getKey())).append('=').append(encode(v));
                sep = '&';
            }
        }
        return b.toString();
    }

    private String uri(ApiRequest request) {
        return uri(request, tenancy.query(request));
    }

    /** One path segment or query component, percent-encoded (a space as %20, as Go's url package reads both). */
    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static void copyRequestHeaders(MultiMap in, RequestOptions out) {
        for (Map.Entry<String, String> h : in) {
            if (REQUEST_HEADERS.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                out.addHeader(h.getKey(), h.getValue());
            }
        }
    }

    static void copyResponseHeaders(MultiMap in, HttpServerResponse out) {
        for (String name : in.names()) {
            String lower = name.toLowerCase(Locale.ROOT);
            if (HOP_BY_HOP.contains(lower)) {
                continue;
            }
            if (lower.equals("api-version")) {
                out.putHeader("Api-Version", lowerVersion(in.get(name)));
                continue;
            }
            out.headers().remove(name);
            for (String v : in.getAll(name)) {
                out.headers().add(name, v);
            }
        }
    }

    /** The version announced to clients: the lower of the upstream's and this daemon's. */
    static String lowerVersion(String upstreamVersion) {
        try {
            ApiVersion theirs = ApiVersion.parse(upstreamVersion.trim());
            return (theirs.compareTo(ApiVersion.MAX) < 0 ? theirs : ApiVersion.MAX).toString();
        } catch (RuntimeException e) {
            return ApiVersion.MAX.toString();
        }
    }
}
