package io.dockgate.gateway.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.config.policy.Policy;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.build.BuildPlan;
import io.dockgate.engine.build.BuildRequest;
import io.dockgate.engine.build.Builder;
import io.dockgate.engine.build.TarContext;
import io.dockgate.gateway.authz.ConstraintChecker;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.request.DockerJson;
import io.dockgate.gateway.stream.RequestBodyStream;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * A build in upstream mode: the context is received here first (spooled and checked by the embedded
 * builder's rules: bounded, no entry climbing out, no device), its Dockerfile read and walked
 * ({@link BuildPlan}) so that the binding that allowed the build judges its base images and the users of
 * its RUN steps, and only then is the context (decompressed) sent to the upstream, which builds it. The
 * upstream's progress stream goes back as it comes; the image it reports is audited with the bases.
 */
final class BuildRelay {
    private final Upstream upstream;
    private final ImageRelay images;
    private final UpstreamFacts facts;
    private final Path workDir;
    private final long maxContext;

    BuildRelay(Upstream upstream, ImageRelay images, Path workDir, long maxContext) {
        this.upstream = upstream;
        this.images = images;
        this.facts = new UpstreamFacts(upstream, images.state());
        this.workDir = workDir;
        this.maxContext = maxContext;
    }

    Future<Void> relay(ApiRequest request, String uri) {
        BuildRequest r = request.model(BuildRequest.class);
        Optional<Policy.Constraints> constraints = request.access().decision().binding().map(Policy.Binding::constraints);
        String rule = request.access().decision().rule();
        Vertx vertx = Vertx.currentContext().owner();
        RequestBodyStream body = new RequestBodyStream(request.http(), Vertx.currentContext());
        List<String> bases = Collections.synchronizedList(new ArrayList<>());
        UpstreamImages.View view = images.view(request);
        var lookups = facts.inImages(request.access().images()); // the bases as the builder's namespace reaches them
        List<String> missingBases = Collections.synchronizedList(new ArrayList<>()); // pulled by the upstream: names made
        Path dir;
        try {
            Files.createDirectories(workDir);
            dir = Files.createTempDirectory(workDir, "build-");
        } catch (IOException e) {
            return Future.failedFuture(new EngineException(ErrorKind.INTERNAL, "cannot make a build directory: " + e.getMessage()));
        }
        Future<TarContext> judged = vertx.executeBlocking(() -> {
            TarContext context;
            try (body) {
                context = Builder.receiveContext(body, dir, maxContext);
            }
            String dockerfile = Builder.readDockerfile(context, r.dockerfile());
            BuildPlan.walk(dockerfile, r, ref -> {
                JsonNode image = upstream.getJsonBlocking("/images/" + UpstreamFacts.imagePath(ref) + "/json");
                return image == null || !view.reaches(ref, image) ? null : image.path("Config");
            }, new BuildPlan.Judge() {
                @Override
                public void base(String reference) {
                    refuseIf(constraints.flatMap(c -> ConstraintChecker.baseImage(c, reference, r.pull(), lookups)), rule);
                    if (!view.common() && !reference.equals("scratch")) {
                        JsonNode image = upstream.getJsonBlocking("/images/" + UpstreamFacts.imagePath(reference) + "/json");
                        if (image != null && !view.reaches(reference, image)) {
                            throw EngineException.notFound("No such image: " + reference);
                        }
                        if (image == null || r.pull()) {
                            UpstreamImages.Making m = view.making(reference, image != null, true);
                            if (m.refused()) {
                                throw new EngineException(ErrorKind.PERMISSION_DENIED, m.refusal());
                            }
                            missingBases.add(reference);
                        }
                    }
                    bases.add(reference);
                }

                @Override
                public void run(String user) {
                    refuseIf(constraints.flatMap(c -> ConstraintChecker.buildStepUser(c, user)), rule);
                }
            });
            return context;
        }, false);
        return judged.compose(context -> {
                    Future<Void> names = Future.succeededFuture();
                    for (String t : r.tags()) {
                        names = names.compose(x -> images.mayMake(view, t, false));
                    }
                    return names.map(context);
                })
                .compose(context -> send(request, uri, context.tarFile(), bases, view, r.tags(), missingBases))
                .onComplete(ar -> vertx.executeBlocking(() -> {
                    io.dockgate.engine.fs.Trash.discard(dir);
                    return null;
                }, false))
                .recover(e -> {
                    if (e instanceof EngineException ee && ee.kind() == ErrorKind.PERMISSION_DENIED) {
                        request.built(List.copyOf(bases), "");
                    }
                    return Future.failedFuture(e);
                });
    }

    private static void refuseIf(Optional<String> refused, String rule) {
        if (refused.isPresent()) {
            throw new EngineException(ErrorKind.PERMISSION_DENIED, "authorization denied by dockgate: " + refused.get() + " (binding "
                    + rule + ")");
        }
    }

    private Future<Void> send(ApiRequest request, String uri, Path tar, List<String> bases, UpstreamImages.View view, List<String> tags,
                              List<String> pulledBases) {
        Vertx vertx = Vertx.currentContext().owner();
        var options = upstream.options(HttpMethod.POST, uri);
        String registryConfig = request.http().getHeader("X-Registry-Config");
        if (registryConfig != null) {
            options.addHeader("X-Registry-Config", registryConfig);
        }
        return vertx.fileSystem().open(tar.toString(), new OpenOptions().setRead(true)).compose(file ->
                upstream.client(request.access().owner()).request(options)
                        .recover(e -> Future.failedFuture(upstream.unreachable(e)))
                        .compose(out -> {
                            out.putHeader(HttpHeaders.CONTENT_TYPE, "application/x-tar");
                            out.putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(tar.toFile().length()));
                            return out.send(file);
                        })
                        .compose(resp -> progress(request, resp, bases, view, tags, pulledBases))
                        .eventually(file::close));
    }

    /** The upstream's progress as it comes, watched for the image it made (its names recorded before the answer ends). */
    private Future<Void> progress(ApiRequest request, HttpClientResponse resp, List<String> bases, UpstreamImages.View view,
                                  List<String> tags, List<String> pulledBases) {
        HttpServerResponse response = request.response();
        response.setStatusCode(resp.statusCode());
        Forwarder.copyResponseHeaders(resp.headers(), response);
        response.setChunked(true);
        response.closeHandler(v -> resp.request().reset());
        String[] image = {""};
        return ProgressRelay.relay(resp, response, m -> {
            if (m.path("aux").hasNonNull("ID")) {
                image[0] = m.path("aux").path("ID").asText();
            } else if (m.hasNonNull("stream") && m.path("stream").asText().startsWith("sha256:")) {
                image[0] = m.path("stream").asText().trim(); // -q
            }
        }, failed -> {
            request.built(List.copyOf(bases), image[0]);
            Future<Void> record = Future.succeededFuture();
            if (!failed) {
                for (String base : List.copyOf(pulledBases)) {
                    record = record.compose(x -> images.pulledBase(view, base));
                }
                if (!image[0].isEmpty()) {
                    record = record.compose(x -> images.made(view, tags, image[0]));
                }
            }
            return record;
        });
    }
}
