package io.dockgate.engine.build;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.container.ContainerRecord;
import io.dockgate.engine.container.ContainerSpec;
import io.dockgate.engine.container.Containers;
import io.dockgate.engine.image.Image;
import io.dockgate.engine.image.ImageStore;
import io.dockgate.engine.snapshot.SnapshotService;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * RUN: a container from the stage's image (its shell or the exec form, the build arguments it sees in its
 * environment, the request's network mode and limits, the caller's owner), its output streamed as it is
 * written, killed when the build is cancelled; its writable layer committed as the step's image unless
 * the command failed (dockerd's message and code). The container goes when the step succeeds (rm), or
 * always (forcerm).
 */
final class RunStep {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ImageStore images;
    private final Containers containers;
    private final SnapshotService snapshots;
    private final BuildCache cache;

    RunStep(ImageStore images, Containers containers, SnapshotService snapshots, BuildCache cache) {
        this.images = images;
        this.containers = containers;
        this.snapshots = snapshots;
        this.cache = cache;
    }

    void run(Stage stage, Dockerfile.Instruction in, BuildRequest r, Builder.Output out, BooleanSupplier cancelled, Set<String> usedArgs)
            throws IOException {
        for (String f : in.flags().keySet()) {
            if (List.of("mount", "network", "security").contains(f)) {
                throw EngineException.invalid("the --" + f + " option requires BuildKit. " + Dockerfile.BUILDKIT);
            }
        }
        in.allowFlags();
        if (stage.image == null) {
            throw EngineException.invalid("RUN in a stage FROM scratch needs a shell: there is nothing to run");
        }
        stage.bases.beforeRun(stage.config.path("User").asText(""));
        List<String> argv = new ArrayList<>();
        if (in.execForm()) {
            argv.addAll(in.json());
        } else {
            argv.addAll(Instructions.shell(stage.config));
            argv.add(in.args());
        }
        if (argv.isEmpty()) {
            throw EngineException.invalid("RUN requires at least one argument");
        }
        // the build arguments the command sees (those ENV does not set), in the environment and the cache key
        Map<String, String> buildEnv = new LinkedHashMap<>();
        Set<String> envNames = new java.util.HashSet<>();
        for (JsonNode e : stage.config.path("Env")) {
            String s = e.asText();
            envNames.add(s.contains("=") ? s.substring(0, s.indexOf('=')) : s);
        }
        stage.args.forEach((k, v) -> {
            if (v != null && !envNames.contains(k)) {
                buildEnv.put(k, v);
            }
        });
        r.buildArgs().forEach((k, v) -> {
            if (Builder.PREDEFINED_ARGS.contains(k) && v != null && !envNames.contains(k)) {
                buildEnv.put(k, v);
                usedArgs.add(k);
            }
        });
        String createdBy = (buildEnv.isEmpty() ? "" : "|" + buildEnv.size() + " " + String.join(" ",
                buildEnv.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()) + " ") + String.join(" ", argv);
        String key = BuildCache.key(r.owner(), Builder.parentId(stage), "run", createdBy, JSON.writeValueAsString(stage.config));
        Optional<Image> hit = r.noCache() ? Optional.empty() : cache.find(key, images);
        if (hit.isPresent()) {
            out.stream(" ---> Using cache\n");
            stage.image = hit.get();
            out.stream(" ---> " + Builder.shortId(stage.image) + "\n");
            return;
        }
        List<String> env = new ArrayList<>();
        stage.config.path("Env").forEach(e -> env.add(e.asText()));
        buildEnv.forEach((k, v) -> env.add(k + "=" + v));
        ContainerSpec.HostBuilder host = ContainerSpec.Host.builder()
                .networkMode(r.networkMode().isEmpty() ? "bridge" : r.networkMode())
                .memory(r.limits().memory()).memorySwap(r.limits().memorySwap()).cpuShares(r.limits().cpuShares())
                .cpuQuota(r.limits().cpuQuota()).cpuPeriod(r.limits().cpuPeriod()).shmSize(r.limits().shmSize());
        if (!r.limits().cpusetCpus().isEmpty()) {
            host.cpusetCpus(r.limits().cpusetCpus());
        }
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(Builder.BUILD_LABEL, "true"); // a RUN step's: removed at the next start if a crash leaves it
        if (!r.owner().isEmpty()) {
            labels.put(ContainerSpec.OWNER_LABEL, r.owner());
        }
        ContainerSpec spec = ContainerSpec.builder(stage.image.id().toString()).entrypoint(List.of()).cmd(argv).env(env)
                .user(stage.config.path("User").asText("")).workingDir(stage.config.path("WorkingDir").asText(""))
                .labels(labels).host(host.build()).healthcheck(new io.dockgate.engine.container.Healthcheck(List.of("NONE"), 0, 0, 0, 0, 0))
                .build();
        ContainerRecord c = containers.create("", spec);
        out.stream(" ---> Running in " + c.id().substring(0, 12) + "\n");
        boolean succeeded = false;
        try {
            var exited = containers.waitFor(c.id(), "next-exit");
            containers.start(c.id());
            ContainerRecord done = awaitExit(exited, c, cancelled, out);
            int code = done.status().exitCode();
            if (code != 0) {
                throw new Builder.StepFailed("The command '" + String.join(" ", argv) + "' returned a non-zero code: " + code, code);
            }
            String id = c.id();
            try (InputStream i = io.dockgate.engine.fs.Pipes.stream("dockgate-build-" + id.substring(0, 12),
                    o -> snapshots.writeDiff(id, io.dockgate.engine.oci.SpecBuilder.ENGINE_MOUNT_POINTS, o))) {
                stage.image = images.commitChild(stage.image, i, new ImageStore.ChildImage(stage.config.deepCopy(), "", "", createdBy,
                        false, c.id()).ownedBy(r.owner(), r.images()), Optional.empty());
            }
            cache.put(key, stage.image);
            succeeded = true;
        } finally {
            if (succeeded ? r.rm() : r.forceRm() || r.rm() && cancelled.getAsBoolean()) {
                containers.remove(c.id(), true, true);
                out.stream("Removing intermediate container " + c.id().substring(0, 12) + "\n");
            }
        }
        out.stream(" ---> " + Builder.shortId(stage.image) + "\n");
    }

    /** Waits for the RUN container to exit, its output streamed to the client as it is written; kills it on cancel. */
    private ContainerRecord awaitExit(java.util.concurrent.CompletableFuture<ContainerRecord> exited, ContainerRecord c,
                                      BooleanSupplier cancelled, Builder.Output out) throws IOException {
        Path log = Path.of(c.logPath());
        long offset = 0;
        while (true) {
            try {
                ContainerRecord done = exited.get(100, java.util.concurrent.TimeUnit.MILLISECONDS);
                for (io.dockgate.engine.container.LogReader.Entry e : io.dockgate.engine.container.LogReader.read(log, offset, true)
                        .entries()) {
                    out.stream(e.text());
                }
                return done;
            } catch (java.util.concurrent.TimeoutException e) {
                if (Files.exists(log)) {
                    io.dockgate.engine.container.LogReader.Chunk chunk = io.dockgate.engine.container.LogReader.read(log, offset, false);
                    chunk.entries().forEach(x -> out.stream(x.text()));
                    offset = chunk.offset();
                }
                if (cancelled.getAsBoolean()) {
                    containers.kill(c.id(), "KILL");
                    throw new EngineException(ErrorKind.RUNTIME, "the build was cancelled");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted");
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IOException(e.getCause());
            }
        }
    }
}
