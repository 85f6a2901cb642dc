package io.dockgate.gateway.http;

import io.dockgate.gateway.auth.Principal;
import io.dockgate.gateway.authz.Access;
import io.dockgate.gateway.request.ApiVersion;
import io.dockgate.gateway.request.CanonicalPath;
import io.dockgate.gateway.request.Route;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One request after the pipeline identified the caller, canonicalised the path and found the route:
 * what a handler sees. Handlers read parameters here and answer through {@link #response()}.
 */
public final class ApiRequest {
    private final String id;
    private final HttpServerRequest http;
    private final Principal principal;
    private final CanonicalPath path;
    private final ApiVersion version;
    private final Route route;
    private final Operation operation;
    private final Map<String, String> params;
    private final Object model;
    private final com.fasterxml.jackson.databind.JsonNode json;
    private final io.dockgate.gateway.authz.Target target;
    private final Access access;
    private volatile Runnable onHijack = () -> { };
    private volatile java.util.function.BiConsumer<java.util.List<String>, String> onBuild = (b, i) -> { };

    ApiRequest(String id, HttpServerRequest http, Principal principal, CanonicalPath path, ApiVersion version,
               Route route, Operation operation, Map<String, String> params, Object model,
               com.fasterxml.jackson.databind.JsonNode json, io.dockgate.gateway.authz.Target target, Access access) {
        this.operation = operation;
        this.model = model;
        this.json = json;
        this.target = target;
        this.access = access;
        this.id = id;
        this.http = http;
        this.principal = principal;
        this.path = path;
        this.version = version;
        this.route = route;
        this.params = Map.copyOf(params);
    }

    void onHijack(Runnable listener) {
        this.onHijack = listener;
    }

    void onBuild(java.util.function.BiConsumer<java.util.List<String>, String> listener) {
        this.onBuild = listener;
    }

    /** A build ended: the base images it used and the image it made ("" none) go to the audit log. */
    public void built(java.util.List<String> bases, String image) {
        onBuild.accept(bases, image);
    }

    /**
     * The handler turned the connection into a raw stream (101 UPGRADED): the HTTP exchange is over, so
     * the access log records it now.
     */
    public void hijacked() {
        onHijack.run();
    }

    public String id() {
        return id;
    }

    /**
     * The typed model the operation's JSON body was translated into, once, before authorization: the
     * object the authorizer judged. Handlers never see the body's bytes.
     */
    public <T> T model(Class<T> type) {
        if (operation.model() == null) {
            throw new IllegalStateException(operation.name() + " has no body model");
        }
        return type.cast(model);
    }

    /**
     * The body as parsed once under the strict rules (a JSON body, or a streamed body's query as an object),
     * null when the operation has none: what upstream mode re-serialises and forwards.
     */
    public com.fasterxml.jackson.databind.JsonNode json() {
        return json;
    }

    /** The owned object the decision was taken on ({@code Target.NONE} without a policy or a target). */
    public io.dockgate.gateway.authz.Target target() {
        return target;
    }

    /** The route pattern ({@code /containers/{id}/json}). */
    public Route route() {
        return route;
    }

    /** The descriptor of the operation. */
    public Operation descriptor() {
        return operation;
    }

    /** What the caller may see and do beyond this operation (tenancy, separate rights). */
    public Access access() {
        return access;
    }

    public Principal principal() {
        return principal;
    }

    public ApiVersion version() {
        return version;
    }

    public String operation() {
        return operation.name();
    }

    public CanonicalPath path() {
        return path;
    }

    public HttpMethod method() {
        return http.method();
    }

    public HttpServerRequest http() {
        return http;
    }

    public HttpServerResponse response() {
        return http.response();
    }

    /** A path parameter named in the route pattern. */
    public String param(String name) {
        String value = params.get(name);
        if (value == null) {
            throw new IllegalStateException("route " + route.pattern() + " has no parameter " + name);
        }
        return value;
    }

    public Optional<String> query(String name) {
        return Optional.ofNullable(http.getParam(name));
    }

    /** Docker's boolean query parsing: empty, 0, no, false and none are false; anything else true. */
    public boolean queryBool(String name) {
        String v = http.getParam(name);
        if (v == null) {
            return false;
        }
        String s = v.trim().toLowerCase(Locale.ROOT);
        return !(s.isEmpty() || s.equals("0") || s.equals("no") || s.equals("false") || s.equals("none"));
    }
}
