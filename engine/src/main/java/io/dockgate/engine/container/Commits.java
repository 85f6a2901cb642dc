package io.dockgate.engine.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.image.Changes;
import io.dockgate.engine.image.Image;
import io.dockgate.engine.image.ImageStore;
import io.dockgate.engine.image.Reference;
import io.dockgate.engine.oci.SpecBuilder;
import io.dockgate.engine.runtime.Runc;
import io.dockgate.engine.snapshot.SnapshotService;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * docker commit: a container's writable layer as a new layer on its image. The running container is
 * frozen while its layer is read (unless asked not to); the layer tar is streamed into the image store,
 * which applies it as any layer (verified, published by rename: a failure leaves no half layer). The new image's configuration is the container's (with the given
 * configuration over it and the changes applied), its history the image's plus one entry, its parent the
 * container's image.
 */
public final class Commits {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The request: where to tag it, its comment and author, whether to pause, Dockerfile changes, a Config, who asks. */
    public record CommitRequest(String repo, String tag, String comment, String author, boolean pause, List<String> changes,
                                JsonNode config, String owner, io.dockgate.engine.image.ImageNamespace images) {
        public CommitRequest {
            images = images == null ? io.dockgate.engine.image.ImageNamespace.COMMON : images;
        }
    }

    private final ContainerStore store;
    private final Function<String, Object> locks;
    private final SnapshotService snapshots;
    private final ImageStore images;
    private final Runc runc;
    private final ContainerEvents events;

    Commits(ContainerStore store, Function<String, Object> locks, SnapshotService snapshots, ImageStore images, Runc runc,
            ContainerEvents events) {
        this.store = store;
        this.locks = locks;
        this.snapshots = snapshots;
        this.images = images;
        this.runc = runc;
        this.events = events;
    }

    Image commit(String ref, CommitRequest r) throws IOException {
        ContainerRecord c = store.resolve(ref);
        Optional<Reference> reference = Optional.empty();
        if (r.repo() != null && !r.repo().isEmpty()) {
            Reference parsed = Reference.parse(r.repo() + (r.tag() != null && !r.tag().isEmpty() ? ":" + r.tag() : ""));
            reference = Optional.of(parsed);
        } else if (r.tag() != null && !r.tag().isEmpty()) {
            throw EngineException.invalid("tag without repository: " + r.tag());
        }
        ObjectNode runConfig = runConfig(c, r.config());
        Changes.apply(runConfig, r.changes() == null ? List.of() : r.changes());
        Image parent = images.resolve(c.imageId());
        Image image;
        synchronized (locks.apply(c.id())) {
            c = store.get(c.id());
            if (c == null) {
                throw EngineException.notFound("No such container: " + ref);
            }
            if (c.status().state() == ContainerState.REMOVING || c.status().state() == ContainerState.DEAD) {
                throw EngineException.conflict("You cannot commit container " + c.id() + " which is being removed");
            }
            boolean froze = false;
            if (r.pause() && c.status().state() == ContainerState.RUNNING) {
                runc.pause(c.id());
                froze = true;
            }
            // the layer tar is made while the image store applies it (a pipe, no file): a failure of either ends both
            String id = c.id();
            try (InputStream in = io.dockgate.engine.fs.Pipes.stream("dockgate-commit-" + id.substring(0, 12),
                    out -> snapshots.writeDiff(id, SpecBuilder.ENGINE_MOUNT_POINTS, out))) {
                image = images.commitChild(parent, in, new ImageStore.ChildImage(runConfig, r.author(), r.comment(),
                        String.join(" ", command(c)), false, c.id()).ownedBy(r.owner(), r.images()), reference);
            } finally {
                if (froze) {
                    runc.resume(c.id());
                }
            }
        }
        events.emit(c, "commit", "comment", r.comment() == null ? "" : r.comment(), "imageID", image.id().toString(),
                "imageRef", reference.map(x -> x.withDefaultTag().familiar()).orElse(""));
        return image;
    }

    private static List<String> command(ContainerRecord c) {
        List<String> out = new java.util.ArrayList<>();
        out.add(c.path());
        out.addAll(c.args());
        return out;
    }

    /**
     * The container's configuration as an image's (what it was created with, merged with its image's), the
     * given Config's fields over it (those it sets), without the owner label (dockgate's record).
     */
    static ObjectNode runConfig(ContainerRecord c, JsonNode given) {
        ContainerSpec s = c.spec();
        ObjectNode n = JSON.createObjectNode();
        n.put("Hostname", s.hostname());
        n.put("Domainname", "");
        n.put("User", s.user() == null ? "" : s.user());
        n.put("AttachStdin", false);
        n.put("AttachStdout", false);
        n.put("AttachStderr", false);
        ObjectNode ports = JSON.createObjectNode();
        s.netOrNone().exposedOrEmpty().forEach(p -> ports.putObject(p));
        s.netOrNone().portsOrEmpty().forEach(b -> ports.putObject(b.containerPort() + "/" + b.protocol()));
        if (ports.size() > 0) {
            n.set("ExposedPorts", ports);
        }
        n.put("Tty", s.tty());
        n.put("OpenStdin", s.openStdin());
        n.put("StdinOnce", s.stdinOnce());
        strings(n.putArray("Env"), s.env());
        if (s.cmd() != null && !s.cmd().isEmpty()) {
            strings(n.putArray("Cmd"), s.cmd());
        } else {
            n.putNull("Cmd");
        }
        if (s.healthcheck() != null) {
            ObjectNode h = n.putObject("Healthcheck");
            strings(h.putArray("Test"), s.healthcheck().test());
            putNonZero(h, "Interval", s.healthcheck().interval());
            putNonZero(h, "Timeout", s.healthcheck().timeout());
            putNonZero(h, "StartPeriod", s.healthcheck().startPeriod());
            putNonZero(h, "StartInterval", s.healthcheck().startInterval());
            putNonZero(h, "Retries", s.healthcheck().retries());
        }
        n.put("Image", c.imageRef());
        ObjectNode volumes = JSON.createObjectNode();
        s.shownOrNone().volumes().forEach(v -> volumes.putObject(v));
        n.set("Volumes", volumes.size() > 0 ? volumes : null);
        n.put("WorkingDir", s.workingDir() == null ? "" : s.workingDir());
        if (s.entrypoint() != null && !s.entrypoint().isEmpty()) {
            strings(n.putArray("Entrypoint"), s.entrypoint());
        } else {
            n.putNull("Entrypoint");
        }
        n.putNull("OnBuild");
        ObjectNode labels = n.putObject("Labels");
        Map<String, String> visible = ContainerSpec.visibleLabels(s.labels());
        if (visible != null) {
            visible.forEach(labels::put);
        }
        if (s.stopSignal() != null && !s.stopSignal().isEmpty()) {
            n.put("StopSignal", s.stopSignal());
        }
        if (given != null && given.isObject()) {
            given.fields().forEachRemaining(f -> {
                if (!f.getValue().isNull() && !f.getKey().equalsIgnoreCase("Labels")) {
                    n.set(canonical(n, f.getKey()), f.getValue());
                }
            });
            JsonNode givenLabels = Healthcheck.field(given, "Labels");
            if (givenLabels != null && givenLabels.isObject()) {
                givenLabels.fields().forEachRemaining(f -> {
                    if (!f.getKey().equalsIgnoreCase(ContainerSpec.OWNER_LABEL)) {
                        labels.set(f.getKey(), f.getValue());
                    }
                });
            }
        }
        return n;
    }

    private static String canonical(ObjectNode n, String key) {
        var it = n.fieldNames();
        while (it.hasNext()) {
            String k = it.next();
            if (k.equalsIgnoreCase(key)) {
                return k;
            }
        }
        return key;
    }

    private static void putNonZero(ObjectNode n, String key, long value) {
        if (value != 0) {
            n.put(key, value);
        }
    }

    private static void strings(ArrayNode a, List<String> values) {
        (values == null ? List.<String>of() : values).forEach(a::add);
    }
}
