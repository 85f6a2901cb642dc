package io.dockgate.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.Engine;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.image.Digest;
import io.dockgate.engine.image.Image;
import io.dockgate.engine.image.ImageNamespace;
import io.dockgate.engine.image.ImageStore;
import io.dockgate.engine.image.Layer;
import io.dockgate.engine.image.PullListener;
import io.dockgate.engine.image.RegistryCredentials;
import io.dockgate.engine.image.Reference;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.http.Blocking;
import io.dockgate.gateway.http.ClientGone;
import io.dockgate.gateway.http.OperationCatalog;
import io.dockgate.gateway.http.Responses;
import io.dockgate.gateway.request.Filters;
import io.dockgate.gateway.stream.JsonMessageStream;
import io.dockgate.gateway.stream.RequestBodyStream;
import io.dockgate.gateway.stream.ResponseOutputStream;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The image routes: translate Docker's requests and answers, delegate to the {@link ImageStore}. */
public final class ImagesApi {
    private static final Logger LOG = LoggerFactory.getLogger(ImagesApi.class);
    private static final Set<String> LIST_FILTERS = Set.of("owner", "reference", "dangling", "label", "before", "since");
    private static final Set<String> PRUNE_FILTERS = Set.of("dangling", "label", "until");

    private final Engine engine;
    private final ImageStore store;
    private final Blocking blocking;

    public ImagesApi(Engine engine, Blocking blocking) {
        this.engine = engine;
        this.store = engine == null ? null : engine.images();
        this.blocking = blocking;
    }

    public void register(OperationCatalog catalog) {
        catalog.add(OperationTable.IMAGE_LIST, "GET", "/images/json", this::list)
                .add(OperationTable.IMAGE_LOAD, "POST", "/images/load", this::load)
                .add(OperationTable.IMAGE_CREATE, "POST", "/images/create", this::create)
                .add(OperationTable.IMAGE_PRUNE, "POST", "/images/prune", this::prune)
                .add(OperationTable.IMAGE_SAVE, "GET", "/images/get", this::saveMany)
                .add(OperationTable.IMAGE_SAVE, "GET", "/images/{name...}/get", this::saveOne)
                .add(OperationTable.IMAGE_INSPECT, "GET", "/images/{name...}/json", this::inspect)
                .add(OperationTable.IMAGE_HISTORY, "GET", "/images/{name...}/history", this::history)
                .add(OperationTable.IMAGE_TAG, "POST", "/images/{name...}/tag", this::tag)
                .add(OperationTable.IMAGE_PUSH, "POST", "/images/{name...}/push", this::push)
                .add(OperationTable.IMAGE_DELETE, "DELETE", "/images/{name...}", this::delete)
;
    }

    // ---- list, inspect, history

    Future<?> list(ApiRequest request) {
        Filters filters = Filters.parse(request.query("filters").orElse(null), LIST_FILTERS);
        ImageNamespace ns = listedNamespace(request, filters);
        return blocking.run(() -> {
            Boolean dangling = filters.bool("dangling");
            Instant before = filters.has("before") ? store.resolve(ns, filters.get("before").get(0)).created() : null;
            Instant since = filters.has("since") ? store.resolve(ns, filters.get("since").get(0)).created() : null;
            List<Map<String, Object>> result = new ArrayList<>();
            boolean all = request.queryBool("all");
            java.util.Set<String> parents = new java.util.HashSet<>();
            List<Image> listed = store.list(ns);
            for (Image image : listed) {
                parents.add(store.parentOf(image));
            }
            for (Image image : listed) {
                List<String> tags = new ArrayList<>(repoTags(ns, image));
                if (!all && tags.isEmpty() && parents.contains(image.id().toString())) {
                    continue; // an intermediate image of a build or commit (a parent without tags): shown with -a, as dockerd
                }
                if (dangling != null && dangling != tags.isEmpty()) {
                    continue;
                }
                if (filters.has("reference")) {
                    List<String> matching = List.copyOf(tags).stream().filter(t -> filters.get("reference").stream().anyMatch(p ->
                            Filters.glob(p, t) || Filters.glob(p, t.substring(0, t.lastIndexOf(':'))))).toList();
                    if (matching.isEmpty()) {
                        continue;
                    }
                    tags = new ArrayList<>(matching);
                }
                if (filters.has("label") && !Filters.labelsMatch(filters.get("label"), image.runConfig().get("Labels"))) {
                    continue;
                }
                if (filters.has("owner") && filters.get("owner").stream().noneMatch(o -> store.holders(image.id()).contains(o))) {
                    continue; // dockgate's own filter: who holds it (loaded, imported, pulled, tagged, built or committed it)
                }
                if (before != null && !image.created().isBefore(before) || since != null && !image.created().isAfter(since)) {
                    continue;
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("Containers", -1);
                m.put("Created", image.created().getEpochSecond());
                m.put("Id", image.id().toString());
                m.put("Labels", labels(image));
                m.put("ParentId", store.parentOf(image));
                boolean legacy = !request.version().atLeast(1, 44);
                List<String> digests = repoDigests(ns, image);
                m.put("RepoDigests", legacy && digests.isEmpty() && tags.isEmpty() ? List.of("<none>@<none>") : digests);
                m.put("RepoTags", legacy && tags.isEmpty() ? List.of("<none>:<none>") : tags);
                m.put("SharedSize", -1);
                long size = store.size(image);
                m.put("Size", size);
                if (legacy) {
                    m.put("VirtualSize", size);
                }
                result.add(m);
            }
            return result;
        }).compose(body -> Responses.json(request, 200, body));
    }

    /**
     * Whose images a list shows: the caller's namespace; a caller who sees everything (the common namespace)
     * filtering on one owner sees that owner's images with that owner's names.
     */
    private static ImageNamespace listedNamespace(ApiRequest request, Filters filters) {
        ImageNamespace ns = request.access().images();
        if (ns.common() && filters.has("owner") && filters.get("owner").size() == 1) {
            return ImageNamespace.of(filters.get("owner").get(0), r -> false);
        }
        return ns;
    }

    private List<String> repoTags(ImageNamespace ns, Image image) {
        return store.references(ns, image.id()).stream().filter(r -> r.digest() == null).map(Reference::familiar).sorted().toList();
    }

    private List<String> repoDigests(ImageNamespace ns, Image image) {
        return store.references(ns, image.id()).stream().filter(r -> r.digest() != null).map(Reference::familiar).sorted().toList();
    }

    private static Object labels(Image image) {
        JsonNode labels = image.runConfig().get("Labels");
        return labels == null || labels.isNull() ? null : labels;
    }

    Future<?> inspect(ApiRequest request) {
        String name = request.param("name");
        ImageNamespace ns = request.access().images();
        return blocking.run(() -> {
            Image image = store.resolve(ns, name);
            List<Layer> layers = store.layersOf(image);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("Id", image.id().toString());
            m.put("RepoTags", repoTags(ns, image));
            m.put("RepoDigests", repoDigests(ns, image));
            m.put("Parent", store.parentOf(image));
            m.put("Comment", image.config().path("comment").asText(""));
            m.put("Created", image.config().path("created").asText(""));
            if (!request.version().atLeast(1, 45)) {
                m.put("Container", "");
                m.put("ContainerConfig", image.runConfig().isMissingNode() ? Map.of() : image.runConfig());
            }
            m.put("DockerVersion", image.config().path("docker_version").asText(""));
            m.put("Author", image.config().path("author").asText(""));
            m.put("Config", image.runConfig().isMissingNode() || image.runConfig().isNull() ? Map.of() : image.runConfig());
            m.put("Architecture", image.config().path("architecture").asText(""));
            if (image.config().hasNonNull("variant")) {
                m.put("Variant", image.config().get("variant").asText());
            }
            m.put("Os", image.config().path("os").asText("linux"));
            long size = store.size(image);
            m.put("Size", size);
            if (!request.version().atLeast(1, 44)) {
                m.put("VirtualSize", size);
            }
            Map<String, Object> data = new LinkedHashMap<>();
            if (!layers.isEmpty()) {
                Layer top = layers.get(layers.size() - 1);
                List<String> lower = new ArrayList<>();
                for (int i = layers.size() - 2; i >= 0; i--) {
                    lower.add(layers.get(i).diff().toString());
                }
                if (!lower.isEmpty()) {
                    data.put("LowerDir", String.join(":", lower));
                }
                data.put("UpperDir", top.diff().toString());
            }
            m.put("GraphDriver", Map.of("Name", "overlay2", "Data", data));
            m.put("RootFS", Map.of("Type", "layers", "Layers", image.diffIds().stream().map(Digest::toString).toList()));
            Map<String, Object> metadata = new LinkedHashMap<>();
            store.lastTagTime(image.id()).ifPresent(t -> metadata.put("LastTagTime", t.toString()));
            m.put("Metadata", metadata);
            return m;
        }).compose(body -> Responses.json(request, 200, body));
    }

    Future<?> history(ApiRequest request) {
        String name = request.param("name");
        ImageNamespace ns = request.access().images();
        return blocking.run(() -> {
            Image image = store.resolve(ns, name);
            List<Layer> layers = store.layersOf(image);
            List<Map<String, Object>> entries = new ArrayList<>();
            JsonNode history = image.config().path("history");
            int layerIndex = 0;
            if (history.isArray() && !history.isEmpty()) {
                for (JsonNode h : history) {
                    boolean empty = h.path("empty_layer").asBoolean(false);
                    long size = 0;
                    if (!empty && layerIndex < layers.size()) {
                        size = layers.get(layerIndex++).diskSize();
                    }
                    entries.add(historyEntry(h.path("created").asText(""), h.path("created_by").asText(""), size,
                            h.path("comment").asText("")));
                }
            } else {
                for (Layer layer : layers) {
                    entries.add(historyEntry(image.config().path("created").asText(""), "", layer.diskSize(), ""));
                }
            }
            // a locally made image's ancestors (its parents, one per build step) name the entries they end with
            Map<Integer, Image> byLength = new java.util.HashMap<>();
            Image ancestor = image;
            for (int hops = 0; ancestor != null && hops < 1000; hops++) {
                byLength.putIfAbsent(ancestor.config().path("history").size(), ancestor);
                String parent = store.parentOf(ancestor);
                ancestor = parent.isEmpty() ? null : store.resolve(parent); // by ID: an ancestor is part of the image
            }
            int total = entries.size();
            Collections.reverse(entries);
            for (int i = 0; i < entries.size(); i++) {
                Image at = i == 0 ? image : byLength.get(total - i);
                entries.get(i).put("Id", at == null ? "<missing>" : at.id().toString());
                List<String> tags = at == null ? List.of() : repoTags(ns, at);
                entries.get(i).put("Tags", tags.isEmpty() ? null : tags);
            }
            return entries;
        }).compose(body -> Responses.json(request, 200, body));
    }

    private static Map<String, Object> historyEntry(String created, String createdBy, long size, String comment) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Id", "<missing>");
        long epoch;
        try {
            epoch = created.isEmpty() ? 0 : Instant.parse(created).getEpochSecond();
        } catch (RuntimeException e) {
            epoch = 0;
        }
        m.put("Created", epoch);
        m.put("CreatedBy", createdBy);
        m.put("Tags", null);
        m.put("Size", size);
        m.put("Comment", comment);
        return m;
    }

    // ---- tag, delete, prune

    Future<?> tag(ApiRequest request) {
        String name = request.param("name");
        String repo = request.query("repo").orElse("");
        String tag = request.query("tag").orElse("");
        ImageNamespace ns = request.access().images();
        return blocking.run(() -> {
            store.tag(ns, name, repo, tag);
            return null;
        }).compose(v -> request.response().setStatusCode(201).end());
    }

    Future<?> delete(ApiRequest request) {
        String name = request.param("name");
        boolean force = request.queryBool("force");
        boolean noPrune = request.queryBool("noprune");
        return blocking.run(() -> {
            List<Map<String, String>> body = new ArrayList<>();
            for (ImageStore.Deletion d : store.delete(request.access().images(), name, force, noPrune)) {
                body.add(d.untagged() != null ? Map.of("Untagged", d.untagged()) : Map.of("Deleted", d.deleted()));
            }
            return body;
        }).compose(body -> Responses.json(request, 200, body));
    }

    Future<?> prune(ApiRequest request) {
        Filters filters = Filters.parse(request.query("filters").orElse(null), PRUNE_FILTERS);
        Boolean dangling = filters.bool("dangling");
        boolean all = dangling != null && !dangling;
        Instant until = filters.has("until") ? parseUntil(filters.get("until").get(0)) : null;
        Predicate<Image> filter = image -> (!filters.has("label") || Filters.labelsMatch(filters.get("label"), image.runConfig().get("Labels")))
                && (until == null || image.created().isBefore(until));
        return blocking.run(() -> {
            ImageStore.PruneResult result = store.prune(request.access().images(), all, filter);
            List<Map<String, String>> deleted = new ArrayList<>();
            for (ImageStore.Deletion d : result.deleted()) {
                deleted.add(d.untagged() != null ? Map.of("Untagged", d.untagged()) : Map.of("Deleted", d.deleted()));
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("ImagesDeleted", deleted.isEmpty() ? null : deleted);
            body.put("SpaceReclaimed", result.spaceReclaimed());
            return body;
        }).compose(body -> Responses.json(request, 200, body));
    }

    static Instant parseUntil(String text) {
        try {
            if (text.matches("\\d+(\\.\\d+)?")) {
                return Instant.ofEpochSecond((long) Double.parseDouble(text));
            }
            if (text.matches("\\d+[smh]")) {
                long n = Long.parseLong(text.substring(0, text.length() - 1));
                long seconds = switch (text.charAt(text.length() - 1)) {
                    case 's' -> n;
                    case 'm' -> n * 60;
                    default -> n * 3600;
                };
                return Instant.now().minusSeconds(seconds);
            }
            return Instant.parse(text);
        } catch (RuntimeException e) {
            throw EngineException.invalid("invalid filter 'until=" + text + "'");
        }
    }

    // ---- load, import, save

    Future<?> load(ApiRequest request) {
        Context context = Vertx.currentContext();
        RequestBodyStream body = new RequestBodyStream(request.http(), context);
        JsonMessageStream out = new JsonMessageStream(request.response());
        boolean quiet = request.queryBool("quiet");
        List<String> messages = Collections.synchronizedList(new ArrayList<>());
        return blocking.run(() -> {
            try (body) {
                store.load(request.access().images(), body, engine.limits().maxArchiveBytes(), messages::add);
            } catch (java.io.IOException | RuntimeException e) {
                throw ImageStore.failure(e);
            }
            return null;
        }).transform(ar -> {
            for (String m : messages) {
                out.stream(m);
            }
            if (ar.failed()) {
                Throwable t = ar.cause();
                String message = t instanceof EngineException ee && ee.kind() != ErrorKind.INTERNAL ? t.getMessage()
                        : "internal error (request " + request.id() + ")";
                if (ClientGone.is(request.http(), t)) {
                    LOG.debug("request {}: the client went away during the load: {}", request.id(), t.toString());
                } else if (!(t instanceof EngineException ee2) || ee2.kind() == ErrorKind.INTERNAL) {
                    LOG.error("request {}: load failed", request.id(), t);
                }
                out.error(message);
            }
            return out.end();
        });
    }

    Future<?> create(ApiRequest request) {
        Optional<String> fromSrc = request.query("fromSrc");
        Optional<String> fromImage = request.query("fromImage");
        if (fromImage.isPresent() && !fromImage.get().isEmpty()) {
            return pull(request, fromImage.get(), request.query("tag").orElse(""));
        }
        if (fromSrc.isEmpty()) {
            throw EngineException.invalid("fromSrc or fromImage is required");
        }
        if (!fromSrc.get().equals("-")) {
            throw EngineException.invalid("importing from a URL is not supported: send the archive in the body (fromSrc=-)");
        }
        Optional<Reference> reference = reference(request.query("repo").orElse(""), request.query("tag").orElse(""));
        String message = request.query("message").orElse("");
        List<String> changes = request.http().params().getAll("changes");
        String architecture = engine.host().goArch();
        Context context = Vertx.currentContext();
        RequestBodyStream body = new RequestBodyStream(request.http(), context);
        JsonMessageStream out = new JsonMessageStream(request.response());
        return blocking.run(() -> {
            try (body) {
                return store.importRootfs(request.access().images(), body, reference, message, changes, architecture);
            } catch (java.io.IOException | RuntimeException e) {
                throw ImageStore.failure(e);
            }
        }).transform(ar -> {
            if (ar.succeeded()) {
                out.status(ar.result().id().toString());
            } else {
                Throwable t = ar.cause();
                boolean internal = !(t instanceof EngineException ee) || ee.kind() == ErrorKind.INTERNAL;
                if (ClientGone.is(request.http(), t)) {
                    LOG.debug("request {}: the client went away during the import: {}", request.id(), t.toString());
                } else if (internal) {
                    LOG.error("request {}: import failed", request.id(), t);
                }
                out.error(internal ? "internal error (request " + request.id() + ")" : t.getMessage());
            }
            return out.end();
        });
    }

    private Future<?> pull(ApiRequest request, String image, String tag) {
        Reference parsed = Reference.parse(image);
        Reference ref;
        if (!tag.isEmpty()) {
            ref = tag.startsWith("sha256:") ? Reference.parse(parsed.name() + "@" + tag) : parsed.withTag(tag);
        } else {
            ref = parsed.withDefaultTag();
        }
        String platform = request.query("platform").orElse("");
        if (!platform.isEmpty() && !platform.equals("linux/amd64") && !platform.equals("linux")) {
            throw EngineException.invalid("platform " + platform + " is not supported: this daemon runs linux/amd64");
        }
        RegistryCredentials credentials = RegistryCredentials.fromHeader(request.http().getHeader("X-Registry-Auth"));
        Context context = Vertx.currentContext();
        JsonMessageStream out = new JsonMessageStream(request.response());
        PullListener listener = new PullListener() {
            @Override
            public void status(String id, String status) {
                Map<String, Object> m = statusMessage(id, status, false);
                context.runOnContext(v -> out.message(m));
            }

            @Override
            public void progress(String id, String status, long current, long total) {
                Map<String, Object> m = progressMessage(id, status, current, total);
                context.runOnContext(v -> out.message(m));
            }
        };
        return blocking.run(() -> {
            try {
                return store.pull(request.access().images(), ref, credentials, listener);
            } catch (java.io.IOException e) {
                throw ImageStore.failure(e);
            }
        }).transform(ar -> {
            if (ar.succeeded()) {
                ImageStore.PullResult r = ar.result();
                out.status("Digest: " + r.manifestDigest());
                out.status((r.upToDate() ? "Status: Image is up to date for " : "Status: Downloaded newer image for ") + ref.familiar());
            } else {
                Throwable t = ar.cause();
                boolean internal = !(t instanceof EngineException ee) || ee.kind() == ErrorKind.INTERNAL;
                if (!request.response().headWritten()) {
                    return Future.failedFuture(t); // nothing sent yet (registry unreachable, unknown tag): an error status, as dockerd
                }
                if (ClientGone.is(request.http(), t)) {
                    LOG.debug("request {}: the client went away during the pull: {}", request.id(), t.toString());
                } else if (internal) {
                    LOG.error("request {}: pull failed", request.id(), t);
                }
                out.error(internal ? "internal error (request " + request.id() + ")" : t.getMessage());
            }
            return out.end();
        });
    }

    /**
     * {@code docker push}: the progress stream of dockerd (Preparing, Pushing, Layer already exists, Mounted
     * from, Pushed; {@code <tag>: digest: ... size: N} and an aux object per tag). Failing before anything
     * was sent (no such image, registry unreachable) is an error status, as dockerd; after, an error line.
     */
    Future<?> push(ApiRequest request) {
        Reference name = Reference.parse(request.param("name"));
        String tag = request.query("tag").orElse("");
        if (!tag.isEmpty() && name.tag() != null) {
            throw EngineException.invalid("tag given twice: in the name (" + name.familiar() + ") and as tag=" + tag);
        }
        if (!tag.isEmpty()) {
            name.withTag(tag); // refuses an invalid tag
        }
        RegistryCredentials credentials = RegistryCredentials.fromHeader(request.http().getHeader("X-Registry-Auth"));
        Context context = Vertx.currentContext();
        JsonMessageStream out = new JsonMessageStream(request.response());
        java.util.concurrent.atomic.AtomicBoolean gone = new java.util.concurrent.atomic.AtomicBoolean();
        request.response().closeHandler(v -> gone.set(true));
        io.dockgate.engine.image.PushListener listener = new io.dockgate.engine.image.PushListener() {
            @Override
            public boolean cancelled() {
                return gone.get();
            }

            @Override
            public void status(String id, String status) {
                Map<String, Object> m = statusMessage(id, status, true); // dockerd's push lines carry an empty progressDetail
                context.runOnContext(v -> out.message(m));
            }

            @Override
            public void progress(String id, String status, long current, long total) {
                Map<String, Object> m = progressMessage(id, status, current, total);
                context.runOnContext(v -> out.message(m));
            }

            @Override
            public void pushed(String pushedTag, Digest digest, long size) {
                context.runOnContext(v -> {
                    out.status(pushedTag + ": digest: " + digest + " size: " + size);
                    Map<String, Object> aux = new LinkedHashMap<>();
                    aux.put("Tag", pushedTag);
                    aux.put("Digest", digest.toString());
                    aux.put("Size", size);
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("progressDetail", Map.of());
                    m.put("aux", aux);
                    out.message(m);
                });
            }
        };
        return blocking.run(() -> {
            try {
                store.push(request.access().images(), name, tag, credentials, listener);
                return null;
            } catch (java.io.IOException e) {
                throw ImageStore.failure(e);
            }
        }).transform(ar -> {
            // the listener's lines were queued on this context before the push ended: they are written first
            if (ar.failed()) {
                Throwable t = ar.cause();
                boolean internal = !(t instanceof EngineException ee) || ee.kind() == ErrorKind.INTERNAL;
                if (!request.response().headWritten()) {
                    return Future.failedFuture(t);
                }
                if (ClientGone.is(request.http(), t) || gone.get()) {
                    LOG.debug("request {}: the client went away during the push: {}", request.id(), t.toString());
                } else if (internal) {
                    LOG.error("request {}: push failed", request.id(), t);
                }
                out.error(internal ? "internal error (request " + request.id() + ")" : t.getMessage());
            }
            return out.end();
        });
    }

    /** One status line of a pull or push (per layer when id is given), as dockerd writes it. */
    static Map<String, Object> statusMessage(String id, String status, boolean emptyDetail) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", status);
        if (id != null) {
            if (emptyDetail) {
                m.put("progressDetail", Map.of());
            }
            m.put("id", id);
        }
        return m;
    }

    /** One progress line of a pull or push, as dockerd writes it. */
    static Map<String, Object> progressMessage(String id, String status, long current, long total) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", status);
        m.put("progressDetail", total > 0 ? Map.of("current", current, "total", total) : Map.of("current", current));
        m.put("progress", progressBar(current, total));
        m.put("id", id);
        return m;
    }

    static String progressBar(long current, long total) {
        if (total <= 0) {
            return humanSize(current);
        }
        int width = 50;
        int filled = (int) Math.min(width, current * width / total);
        StringBuilder bar = new StringBuilder("[");
        for (int i = 0; i < width; i++) {
            bar.append(i < filled - 1 ? '=' : i == filled - 1 ? '>' : ' ');
        }
        return bar.append("] ").append(humanSize(current)).append('/').append(humanSize(total)).toString();
    }

    static String humanSize(long bytes) {
        String[] units = {"B", "kB", "MB", "GB", "TB"};
        double v = bytes;
        int u = 0;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return u == 0 ? bytes + "B" : String.format(java.util.Locale.ROOT, "%.4g%s", v, units[u]).replaceAll("\\.?0+(?=[a-zA-Z])", "");
    }

    /** repo may carry the tag (repo=name:tag, as the docker CLI sends it); an explicit tag wins. */
    static Optional<Reference> reference(String repo, String tag) {
        if (repo.isEmpty()) {
            return Optional.empty();
        }
        Reference ref = Reference.parse(repo);
        if (!tag.isEmpty()) {
            ref = ref.withTag(tag);
        }
        if (ref.digest() != null) {
            throw EngineException.invalid("cannot import with a digest reference");
        }
        return Optional.of(ref.withDefaultTag());
    }

    Future<?> saveMany(ApiRequest request) {
        List<String> names = request.http().params().getAll("names");
        if (names.isEmpty()) {
            throw EngineException.invalid("no image names given");
        }
        return save(request, names);
    }

    Future<?> saveOne(ApiRequest request) {
        return save(request, List.of(request.param("name")));
    }

    private Future<?> save(ApiRequest request, List<String> names) {
        Context context = Vertx.currentContext();
        ImageNamespace ns = request.access().images();
        return blocking.run(() -> {
            names.forEach(n -> store.resolve(ns, n)); // unknown names fail (404) before any byte is sent
            return null;
        }).compose(v -> {
            request.response().setStatusCode(200).setChunked(true).putHeader("Content-Type", "application/x-tar");
            return request.response().writeHead().compose(x -> blocking.run(() -> {
                try (OutputStream out = new BufferedOutputStream(new ResponseOutputStream(request.response(), context), 256 * 1024)) {
                    store.save(ns, names, out);
                }
                return null;
            })).compose(x -> request.response().end(), e -> {
                LOG.warn("request {}: save failed after the archive started: {}", request.id(), e.toString());
                request.response().reset();
                return Future.succeededFuture();
            });
        });
    }

    // ---- system df (images part)

    /**
     * The images part of docker system df (blocking): every image for a caller who sees everything; under
     * tenancy the caller's images (held or shared), the layers they use and its own containers' use of them.
     */
    Map<String, Object> diskUsage(io.dockgate.gateway.authz.Access access) throws java.io.IOException {
        {
            ImageNamespace ns = access.images();
            List<Image> listed = ns.common() ? store.list() : store.list(ns);
            List<Map<String, Object>> images = new ArrayList<>();
            long layersSize = 0;
            if (ns.common()) {
                for (Layer l : store.layers().all()) {
                    layersSize += l.diskSize();
                }
            } else {
                Set<Digest> counted = new java.util.HashSet<>();
                for (Image image : listed) {
                    for (Layer l : store.layersOf(image)) {
                        if (counted.add(l.chainId())) {
                            layersSize += l.diskSize();
                        }
                    }
                }
            }
            Map<String, Long> users = new java.util.HashMap<>();
            try {
                for (var c : engine.containers().list()) {
                    if (access.sees(c.spec().labels())) {
                        users.merge(c.imageId(), 1L, Long::sum);
                    }
                }
            } catch (io.dockgate.engine.EngineException e) {
                // containers unavailable (no runc or conmon): no image is in use
            }
            for (Image image : listed) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("Containers", users.getOrDefault(image.id().toString(), 0L));
                m.put("Created", image.created().getEpochSecond());
                m.put("Id", image.id().toString());
                m.put("Labels", labels(image));
                m.put("ParentId", store.parentOf(image));
                m.put("RepoDigests", repoDigests(ns, image));
                m.put("RepoTags", repoTags(ns, image));
                m.put("SharedSize", sharedSize(listed, image));
                m.put("Size", store.size(image));
                images.add(m);
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("LayersSize", layersSize);
            body.put("Images", images);
            return body;
        }
    }

    private long sharedSize(List<Image> listed, Image image) {
        long shared = 0;
        List<Image> others = listed.stream().filter(i -> !i.id().equals(image.id())).toList();
        for (Layer layer : store.layersOf(image)) {
            boolean usedElsewhere = others.stream().anyMatch(o -> o.chainIds().contains(layer.chainId()));
            if (usedElsewhere) {
                shared += layer.diskSize();
            }
        }
        return shared;
    }
}
