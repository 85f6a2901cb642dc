package io.dockgate.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.Engine;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.build.BuildRequest;
import io.dockgate.engine.build.Builder;
import io.dockgate.engine.image.Image;
import io.dockgate.engine.image.ImageStore;
import io.dockgate.engine.image.PullListener;
import io.dockgate.engine.image.Reference;
import io.dockgate.engine.image.RegistryCredentials;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.http.Blocking;
import io.dockgate.gateway.http.ClientGone;
import io.dockgate.gateway.http.OperationCatalog;
import io.dockgate.gateway.request.DockerJson;
import io.dockgate.gateway.stream.JsonMessageStream;
import io.dockgate.gateway.stream.RequestBodyStream;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /build} with the classic builder: the query as a {@link BuildRequest}, the context (the
 * body) unpacked into a private directory, then the engine's {@link Builder} with its messages streamed
 * as dockerd's ({@code stream}, {@code aux}, {@code errorDetail} with a failing RUN's code), "Successfully
 * built" and "Successfully tagged" at the end. A client that goes away cancels the build.
 */
public final class BuildApi {
    private static final Logger LOG = LoggerFactory.getLogger(BuildApi.class);
    private final Engine engine;
    private final Blocking blocking;

    public BuildApi(Engine engine, Blocking blocking) {
        this.engine = engine;
        this.blocking = blocking;
    }

    public void register(OperationCatalog catalog) {
        catalog.add(OperationTable.IMAGE_BUILD, "POST", "/build", this::build);
    }

    /** The query (an object of its parameters) as the engine's request; the owner is the handler's to add. */
    static BuildRequest fromQuery(JsonNode q) {
        return request(name -> {
            JsonNode v = q.get(name);
            return v == null ? null : v.isArray() ? (v.isEmpty() ? null : v.get(v.size() - 1).asText()) : v.asText();
        }, name -> {
            JsonNode v = q.get(name);
            List<String> out = new ArrayList<>();
            if (v != null && v.isArray()) {
                v.forEach(x -> out.add(x.asText()));
            } else if (v != null) {
                out.add(v.asText());
            }
            return out;
        }, "");
    }

    /** The query as the engine's request; what the classic builder cannot honour is refused (400 naming it). */
    static BuildRequest request(java.util.function.Function<String, String> query, java.util.function.Function<String, List<String>> all,
                                String owner) {
        String version = orEmpty(query.apply("version"));
        if (version.equals("2")) {
            throw EngineException.invalid("BuildKit (version=2) is not supported by dockgate: use the classic builder (DOCKER_BUILDKIT=0)");
        }
        if (!orEmpty(query.apply("remote")).isEmpty()) {
            throw EngineException.invalid("remote build contexts (remote=) are not supported by dockgate: send the context as the body");
        }
        for (String refused : List.of("extrahosts", "cgroupparent", "squash", "outputs", "isolation")) {
            String v = orEmpty(query.apply(refused));
            if (!v.isEmpty() && !v.equals("[]") && !v.equals("null") && !v.equals("0") && !v.equals("false")
                    && !(refused.equals("isolation") && v.equals("default"))) {
                throw EngineException.invalid("build option " + refused + " is not supported by dockgate");
            }
        }
        for (String list : List.of("cachefrom", "ulimits", "securityopt")) {
            String v = orEmpty(query.apply(list));
            if (!v.isEmpty() && !v.equals("[]") && !v.equals("null")) {
                throw EngineException.invalid("build option " + list + " is not supported by dockgate");
            }
        }
        String platform = orEmpty(query.apply("platform"));
        if (!platform.isEmpty() && !platform.equals("linux/amd64") && !platform.equals("linux")) {
            throw EngineException.invalid("platform " + platform + " is not supported: this daemon builds linux/amd64 images");
        }
        List<String> tags = new ArrayList<>();
        for (String t : all.apply("t")) {
            if (!t.isEmpty()) {
                Reference.parse(t); // 400 for an invalid tag before anything runs
                tags.add(t);
            }
        }
        String network = orEmpty(query.apply("networkmode"));
        if (network.startsWith("container:")) {
            throw EngineException.invalid("networkmode container: is not supported for builds");
        }
        BuildRequest.Limits limits = new BuildRequest.Limits(number(query, "memory"), number(query, "memswap"), number(query, "cpushares"),
                number(query, "cpuquota"), number(query, "cpuperiod"), orEmpty(query.apply("cpusetcpus")), number(query, "shmsize"));
        String rm = query.apply("rm");
        return new BuildRequest(tags, orEmpty(query.apply("dockerfile")), nullableMap(query.apply("buildargs"), "buildargs"),
                stringMap(query.apply("labels")), orEmpty(query.apply("target")), bool(query.apply("nocache")), bool(query.apply("pull")),
                rm == null || rm.isEmpty() || bool(rm), bool(query.apply("forcerm")), bool(query.apply("q")), network, limits, platform,
                owner, io.dockgate.engine.image.ImageNamespace.COMMON);
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }

    private static boolean bool(String v) {
        if (v == null) {
            return false;
        }
        String s = v.trim().toLowerCase(java.util.Locale.ROOT);
        return !(s.isEmpty() || s.equals("0") || s.equals("no") || s.equals("false") || s.equals("none"));
    }

    private static long number(java.util.function.Function<String, String> query, String name) {
        String v = query.apply(name);
        if (v == null || v.isEmpty()) {
            return 0;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw EngineException.invalid("invalid " + name + ": " + v);
        }
    }

    /** buildargs: {"NAME": "value"}, a null value meaning "the default". */
    private static Map<String, String> nullableMap(String json, String name) {
        Map<String, String> out = new LinkedHashMap<>();
        if (json == null || json.isEmpty() || json.equals("null")) {
            return out;
        }
        JsonNode n = DockerJson.parse(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        n.fields().forEachRemaining(f -> out.put(f.getKey(), f.getValue().isNull() ? null : f.getValue().asText()));
        return out;
    }

    private static Map<String, String> stringMap(String json) {
        Map<String, String> out = new LinkedHashMap<>();
        nullableMap(json, "labels").forEach((k, v) -> out.put(k, v == null ? "" : v));
        return out;
    }

    Future<?> build(ApiRequest request) {
        BuildRequest r = request.model(BuildRequest.class).withCaller(request.access().owner(), request.access().images());
        java.util.Optional<io.dockgate.config.policy.Policy.Constraints> constraints = request.access().decision().binding()
                .map(io.dockgate.config.policy.Policy.Binding::constraints);
        io.dockgate.gateway.authz.RequestFacts.Lookups lookups = new io.dockgate.gateway.authz.EngineFacts(engine).inImages(r.images());
        Context context = Vertx.currentContext();
        RequestBodyStream body = new RequestBodyStream(request.http(), context);
        JsonMessageStream out = new JsonMessageStream(request.response());
        AtomicBoolean gone = new AtomicBoolean();
        request.response().closeHandler(v -> gone.set(true));
        Map<String, RegistryCredentials> auths = registryConfig(request.http().getHeader("X-Registry-Config"));
        Builder.Output output = new Builder.Output() {
            @Override
            public void stream(String text) {
                if (!r.quiet()) {
                    context.runOnContext(v -> out.stream(text));
                }
            }

            @Override
            public void aux(String imageId) {
                if (!r.quiet()) {
                    context.runOnContext(v -> out.message(Map.of("aux", Map.of("ID", imageId))));
                }
            }
        };
        String rule = request.access().decision().rule();
        List<String> usedBases = java.util.Collections.synchronizedList(new ArrayList<>());
        Builder.BaseImages bases = new Builder.BaseImages() {
            @Override
            public Image get(String ref, boolean pull, Builder.Output o) throws java.io.IOException {
                // the binding that allowed the build judges its base images, once the Dockerfile names them
                refuseIf(constraints.flatMap(c -> io.dockgate.gateway.authz.ConstraintChecker.baseImage(c, ref, pull, lookups)), rule);
                Image image = base(r.images(), ref, pull, o, auths);
                usedBases.add(ref + "@" + image.id());
                return image;
            }

            @Override
            public void beforeRun(String user) {
                refuseIf(constraints.flatMap(c -> io.dockgate.gateway.authz.ConstraintChecker.buildStepUser(c, user)), rule);
            }
        };
        java.util.function.BooleanSupplier cancelled = () -> gone.get() || request.response().closed();
        return blocking.run(() -> {
            Builder builder = engine.builder();
            Path dir = builder.newContext();
            try {
                io.dockgate.engine.build.TarContext received;
                try (body) {
                    received = Builder.receiveContext(body, dir, engine.limits().maxBuildContextBytes()); // --max-build-context
                }
                return builder.build(received, r, output, cancelled, bases);
            } catch (java.io.IOException e) {
                throw ImageStore.failure(e);
            } finally {
                io.dockgate.engine.fs.Trash.discard(dir); // removed in the background: the answer does not wait for it
            }
        }).transform(ar -> {
            request.built(List.copyOf(usedBases), ar.succeeded() ? ar.result().id().toString() : "");
            if (ar.succeeded()) {
                Image image = ar.result();
                if (r.quiet()) {
                    out.stream(image.id() + "\n");
                } else {
                    out.stream("Successfully built " + image.id().hex().substring(0, 12) + "\n");
                    for (String t : r.tags()) {
                        out.stream("Successfully tagged " + Reference.parse(t).withDefaultTag().familiar() + "\n");
                    }
                }
            } else {
                Throwable t = ar.cause();
                boolean internal = !(t instanceof EngineException ee) || ee.kind() == ErrorKind.INTERNAL;
                if (ClientGone.is(request.http(), t) || gone.get()) {
                    LOG.debug("request {}: the client went away during the build: {}", request.id(), t.toString());
                } else if (internal) {
                    LOG.error("request {}: build failed", request.id(), t);
                }
                String message = internal ? "internal error (request " + request.id() + ")" : t.getMessage();
                if (t instanceof Builder.StepFailed failed) {
                    out.message(Map.of("errorDetail", Map.of("code", failed.code(), "message", message), "error", message));
                } else {
                    out.error(message);
                }
            }
            return out.end();
        });
    }

    private static void refuseIf(java.util.Optional<String> refused, String rule) {
        if (refused.isPresent()) {
            throw new EngineException(ErrorKind.PERMISSION_DENIED, "authorization denied by dockgate: " + refused.get() + " (binding "
                    + rule + ")");
        }
    }

    /** A base image: the local one unless a pull is asked for or it is missing; pulled with the registry's credentials. */
    private Image base(io.dockgate.engine.image.ImageNamespace ns, String ref, boolean pull, Builder.Output o,
                       Map<String, RegistryCredentials> auths) throws java.io.IOException {
        ImageStore store = engine.images();
        if (!pull) {
            try {
                return store.resolve(ns, ref);
            } catch (EngineException e) {
                if (e.kind() != ErrorKind.NOT_FOUND) {
                    throw e;
                }
            }
        }
        Reference reference = Reference.parse(ref).withDefaultTag();
        RegistryCredentials credentials = auths.getOrDefault(reference.domain(), RegistryCredentials.NONE);
        ImageStore.PullResult result = store.pull(ns, reference, credentials, new PullListener() {
            @Override
            public void status(String id, String status) {
                o.stream((id == null ? "" : id + ": ") + status + "\n");
            }

            @Override
            public void progress(String id, String status, long current, long total) {
                // a build's output shows the steps, not byte counts
            }
        });
        return result.image();
    }

    /**
     * X-Registry-Config: base64url JSON {registry: {username, password, identitytoken}}; keyed here by the
     * registry host (Docker Hub's "https://index.docker.io/v1/" as docker.io). Never logged.
     */
    static Map<String, RegistryCredentials> registryConfig(String header) {
        Map<String, RegistryCredentials> out = new LinkedHashMap<>();
        if (header == null || header.isBlank()) {
            return out;
        }
        JsonNode n;
        try {
            n = DockerJson.parse(java.util.Base64.getUrlDecoder().decode(header.strip().replace('+', '-').replace('/', '_')));
        } catch (RuntimeException e) {
            throw EngineException.invalid("invalid X-Registry-Config header");
        }
        n.fields().forEachRemaining(f -> {
            String host = f.getKey().replaceFirst("^https?://", "").replaceFirst("/.*$", "");
            if (host.equals("index.docker.io") || host.equals("registry-1.docker.io")) {
                host = "docker.io";
            }
            JsonNode a = f.getValue();
            out.put(host, a.isObject() ? RegistryCredentials.fromJson(a) : RegistryCredentials.NONE);
        });
        return out;
    }
}
