package io.dockgate.engine.image;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.files.AtomicFiles;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The image store under {@code <data-root>/image}: configurations by image ID ({@code configs/}),
 * repository:tag references ({@code refs.json}) and the shared {@link LayerStore}. Changes are serialised
 * by one lock; each one writes layers first, then the configuration, then the references, every file by
 * rename, so a crash leaves the store as before or as after, and {@link #open} removes what a crash left
 * half-made. Blocking: call from worker threads.
 */
public final class ImageStore {
    private static final Logger LOG = LoggerFactory.getLogger(ImageStore.class);
    static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;
    private final Path configs;
    private final Path refsFile;
    private final LayerStore layers;
    private final BlobSources sources;
    private volatile Registries registries = Registries.DEFAULT;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<Digest, Image> images = new LinkedHashMap<>();
    private final Map<String, Digest> refs = new TreeMap<>();
    private final Map<Digest, Instant> lastTagTime = new LinkedHashMap<>();
    private volatile ImageUsage usage = ImageUsage.NONE;

    /** Who uses images (containers): consulted before deletion and pruning. */
    public interface ImageUsage {
        ImageUsage NONE = id -> List.of();

        /** Containers using the image: name and whether running. */
        List<User> users(Digest imageId);

        /** One container that uses an image. */
        record User(String id, boolean running) {
        }
    }

    private ImageStore(Path root, LayerStore layers) throws IOException {
        this.root = root;
        this.configs = root.resolve("configs");
        this.refsFile = root.resolve("refs.json");
        this.layers = layers;
        this.sources = new BlobSources(root.resolve("distribution"));
    }

    /** Opens the store, repairing what an interrupted change left behind. */
    public static ImageStore open(Path dataRoot, long maxLayerBytes) throws IOException {
        Path root = dataRoot.resolve("image");
        Files.createDirectories(root.resolve("configs"));
        ImageStore store = new ImageStore(root, new LayerStore(root, maxLayerBytes));
        store.layers.recover();
        store.loadIndex();
        store.sweepTemporary();
        return store;
    }

    public void setUsage(ImageUsage usage) {
        this.usage = usage;
    }

    /** Where image events (import, load, pull, save, tag, untag, delete) go. */
    public void setEvents(io.dockgate.engine.events.Events events) {
        this.events = events;
    }

    private volatile io.dockgate.engine.events.Events events = new io.dockgate.engine.events.Events();

    private void emit(String action, String id, String name) {
        events.emit("image", action, id, io.dockgate.engine.events.Events.attributes("name", name));
    }

    /**
     * At start (the layer store has emptied its temporary directory, with every pull's own links): the
     * verified blobs of pulls that did not commit stay a day for their retry; partial downloads go.
     */
    private void sweepTemporary() throws IOException {
        Path blobs = root.resolve(Puller.BLOB_DIR);
        Files.createDirectories(blobs);
        Instant dayAgo = Instant.now().minus(java.time.Duration.ofDays(1));
        try (Stream<Path> files = Files.list(blobs)) {
            for (Path f : files.toList()) {
                boolean verified = f.getFileName().toString().matches("[0-9a-f]{64}");
                if (!verified || Files.getLastModifiedTime(f).toInstant().isBefore(dayAgo)) {
                    Files.deleteIfExists(f); // a download cut off by the stop, or a blob no retry came for
                }
            }
        }
    }

    /** How registries are reached (mirrors, insecure registries, certificates, attempts). */
    public void setRegistries(Registries registries) {
        this.registries = registries;
    }

    public LayerStore layers() {
        return layers;
    }

    private void loadIndex() throws IOException {
        try (Stream<Path> files = Files.list(configs)) {
            for (Path file : files.toList()) {
                String name = file.getFileName().toString();
                if (name.startsWith(".")) {
                    Files.deleteIfExists(file); // an AtomicFiles temporary left by a crash
                    continue;
                }
                if (!name.endsWith(".json")) {
                    continue;
                }
                byte[] bytes = Files.readAllBytes(file);
                Digest id = Digest.of(bytes);
                if (!name.equals(id.hex() + ".json")) {
                    LOG.warn("removing image configuration {} whose content does not match its name", name);
                    Files.delete(file);
                    continue;
                }
                Image image = parse(id, bytes);
                boolean complete = image.chainIds().stream().allMatch(c -> layers.get(c).isPresent());
                if (!complete) {
                    LOG.warn("removing image {}: some of its layers are missing", id.shortId());
                    Files.delete(file);
                    continue;
                }
                images.put(id, image);
            }
        }
        if (Files.exists(refsFile)) {
            JsonNode n = JSON.readTree(refsFile.toFile());
            n.path("refs").fields().forEachRemaining(e -> {
                Digest id = Digest.parse(e.getValue().asText());
                if (images.containsKey(id)) {
                    refs.put(e.getKey(), id);
                }
            });
            n.path("lastTagTime").fields().forEachRemaining(e -> {
                Digest id = Digest.parse(e.getKey());
                if (images.containsKey(id)) {
                    lastTagTime.put(id, Instant.parse(e.getValue().asText()));
                }
            });
        }
        Set<Digest> used = new HashSet<>();
        images.values().forEach(i -> used.addAll(i.chainIds()));
        for (Layer layer : layers.all()) {
            if (!used.contains(layer.chainId())) {
                LOG.info("removing unreferenced layer {}", layer.chainId().shortId());
                layers.remove(layer);
            }
        }
        Set<Digest> diffIds = new HashSet<>();
        images.values().forEach(i -> diffIds.addAll(i.diffIds()));
        sources.retain(diffIds, images.keySet());
        LOG.info("image store: {} images, {} references", images.size(), refs.size());
    }

    static Image parse(Digest id, byte[] bytes) {
        JsonNode config;
        try {
            config = JSON.readTree(bytes);
        } catch (IOException e) {
            throw EngineException.invalid("invalid image configuration: " + e.getMessage());
        }
        if (config == null || !config.isObject()) {
            throw EngineException.invalid("invalid image configuration: not a JSON object");
        }
        JsonNode rootfs = config.path("rootfs");
        if (!rootfs.path("type").asText().equals("layers") || !rootfs.path("diff_ids").isArray()) {
            throw EngineException.invalid("invalid image configuration: rootfs must be of type layers with diff_ids");
        }
        List<Digest> diffIds = new ArrayList<>();
        for (JsonNode d : rootfs.get("diff_ids")) {
            diffIds.add(Digest.parse(d.asText()));
        }
        return new Image(id, bytes, config, List.copyOf(diffIds));
    }

    // ---------------------------------------------------------------- queries

    public List<Image> list() {
        lock.lock();
        try {
            List<Image> all = new ArrayList<>(images.values());
            all.sort(Comparator.comparing(Image::created).reversed());
            return all;
        } finally {
            lock.unlock();
        }
    }

    public int count() {
        lock.lock();
        try {
            return images.size();
        } finally {
            lock.unlock();
        }
    }

    /** The references pointing at an image, as familiar strings (busybox:latest). */
    public List<Reference> references(Digest id) {
        lock.lock();
        try {
            List<Reference> result = new ArrayList<>();
            refs.forEach((k, v) -> {
                if (v.equals(id)) {
                    result.add(Reference.parse(k));
                }
            });
            return result;
        } finally {
            lock.unlock();
        }
    }

    public Optional<Instant> lastTagTime(Digest id) {
        lock.lock();
        try {
            return Optional.ofNullable(lastTagTime.get(id));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Finds an image by reference (tag defaults to latest), full ID, or unique ID prefix, as Docker does.
     * Unknown: NOT_FOUND "No such image: X".
     */
    public Image resolve(String nameOrId) {
        lock.lock();
        try {
            return find(nameOrId).orElseThrow(() -> EngineException.notFound("No such image: " + nameOrId));
        } finally {
            lock.unlock();
        }
    }

    private Optional<Image> find(String text) {
        if (text.startsWith("sha256:") && text.length() == 71) {
            try {
                return Optional.ofNullable(images.get(Digest.parse(text)));
            } catch (EngineException e) {
                return Optional.empty();
            }
        }
        try {
            Reference ref = Reference.parse(text).withDefaultTag();
            Digest id = refs.get(ref.canonical());
            if (id != null) {
                return Optional.of(images.get(id));
            }
        } catch (EngineException e) {
            // not a valid reference: maybe an ID prefix
        }
        if (Reference.looksLikeId(text)) {
            String prefix = text.startsWith("sha256:") ? text.substring(7) : text;
            List<Image> matches = images.values().stream().filter(i -> i.id().hex().startsWith(prefix)).toList();
            if (matches.size() == 1) {
                return Optional.of(matches.get(0));
            }
        }
        return Optional.empty();
    }

    /** The image's layers, bottom first. */
    public List<Layer> layersOf(Image image) {
        List<Layer> result = new ArrayList<>();
        for (Digest chain : image.chainIds()) {
            result.add(layers.get(chain).orElseThrow(() -> new EngineException(ErrorKind.INTERNAL,
                    "layer " + chain + " of image " + image.id() + " is missing")));
        }
        return result;
    }

    /** Bytes on disk of all the image's layers (shared layers counted in full). */
    public long size(Image image) {
        return layersOf(image).stream().mapToLong(Layer::diskSize).sum();
    }

    // ---------------------------------------------------------------- import

    /**
     * {@code docker import}: one layer from a rootfs tar (plain, gzip or zstd), with a configuration made
     * from the changes. Returns the new image.
     */
    public Image importRootfs(InputStream tar, Optional<Reference> reference, String message, List<String> changes,
                              String architecture) throws IOException {
        ObjectNode runConfig = JSON.createObjectNode();
        Changes.apply(runConfig, changes);
        lock.lock();
        try {
            Layer layer = layers.apply(null, tar, null);
            Instant now = Instant.now();
            ObjectNode config = JSON.createObjectNode();
            config.put("architecture", architecture);
            config.put("comment", message == null || message.isEmpty() ? "Imported from -" : message);
            config.put("created", now.toString());
            config.set("config", runConfig);
            ArrayNode history = config.putArray("history");
            ObjectNode h = history.addObject();
            h.put("created", now.toString());
            h.put("comment", message == null || message.isEmpty() ? "Imported from -" : message);
            config.put("os", "linux");
            ObjectNode rootfs = config.putObject("rootfs");
            rootfs.put("type", "layers");
            rootfs.putArray("diff_ids").add(layer.diffId().toString());
            byte[] bytes = JSON.writeValueAsBytes(config);
            Image image = commitImage(bytes);
            reference.ifPresent(r -> setReference(r.withDefaultTag(), image.id()));
            saveRefs();
            emit("import", image.id().toString(), reference.map(r -> r.withDefaultTag().familiar()).orElse(image.id().toString()));
            return image;
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- commit (docker commit, build steps)

    /**
     * What a new image records besides its layer: its run configuration, the history entry's author,
     * comment and created_by, whether the step added no layer (a build's metadata steps), and the
     * container it was committed from (empty for none).
     */
    public record ChildImage(com.fasterxml.jackson.databind.JsonNode runConfig, String author, String comment, String createdBy,
                             boolean emptyLayer, String container, String owner) {
        public ChildImage(com.fasterxml.jackson.databind.JsonNode runConfig, String author, String comment, String createdBy,
                          boolean emptyLayer, String container) {
            this(runConfig, author, comment, createdBy, emptyLayer, container, "");
        }

        /** The same, made on behalf of an owner (a build's, a commit's caller). */
        public ChildImage ownedBy(String newOwner) {
            return new ChildImage(runConfig, author, comment, createdBy, emptyLayer, container, newOwner == null ? "" : newOwner);
        }
    }

    /**
     * A child of {@code parent} (null: from scratch): the layer tar (plain; null when the step adds no
     * layer) applied on the parent's layers, a configuration with the parent's history and DiffIDs plus the
     * new ones and {@code parent} naming the parent image, as dockerd records images made locally.
     */
    public Image commitChild(Image parent, InputStream layerTar, ChildImage child, Optional<Reference> reference) throws IOException {
        lock.lock();
        try {
            Layer layer = null;
            if (layerTar != null) {
                List<Digest> chain = parent == null ? List.of() : parent.chainIds();
                layer = layers.apply(chain.isEmpty() ? null : chain.get(chain.size() - 1), layerTar, null);
            }
            Instant now = Instant.now();
            ObjectNode config = JSON.createObjectNode();
            config.put("architecture", parent == null ? "amd64" : parent.config().path("architecture").asText("amd64"));
            if (child.author() != null && !child.author().isEmpty()) {
                config.put("author", child.author());
            }
            if (child.comment() != null && !child.comment().isEmpty()) {
                config.put("comment", child.comment());
            }
            config.set("config", child.runConfig());
            if (child.container() != null && !child.container().isEmpty()) {
                config.put("container", child.container());
            }
            config.put("created", iso(now));
            ArrayNode history = config.putArray("history");
            if (parent != null && parent.config().path("history").isArray()) {
                parent.config().get("history").forEach(history::add);
            }
            ObjectNode h = history.addObject();
            h.put("created", iso(now));
            if (child.author() != null && !child.author().isEmpty()) {
                h.put("author", child.author());
            }
            h.put("created_by", child.createdBy() == null ? "" : child.createdBy());
            if (child.comment() != null && !child.comment().isEmpty()) {
                h.put("comment", child.comment());
            }
            if (layer == null) {
                h.put("empty_layer", true);
            }
            config.put("os", "linux");
            if (parent != null) {
                config.put("parent", parent.id().toString());
            }
            ObjectNode rootfs = config.putObject("rootfs");
            rootfs.put("type", "layers");
            ArrayNode diffIds = rootfs.putArray("diff_ids");
            if (parent != null) {
                parent.diffIds().forEach(d -> diffIds.add(d.toString()));
            }
            if (layer != null) {
                diffIds.add(layer.diffId().toString());
            }
            Image image = commitImage(JSON.writeValueAsBytes(config));
            if (child.owner() != null && !child.owner().isEmpty()) {
                // who made it (tenancy of images reads this); regenerable metadata beside the configuration
                AtomicFiles.writeUnsynced(configs.resolve(image.id().hex() + ".owner"), child.owner().getBytes(StandardCharsets.UTF_8),
                        AtomicFiles.PRIVATE);
            }
            if (reference.isPresent()) {
                setReference(reference.get().withDefaultTag(), image.id());
                saveRefs();
                emit("tag", image.id().toString(), reference.get().withDefaultTag().familiar());
            }
            return image;
        } finally {
            lock.unlock();
        }
    }

    /** Points a reference at an image (docker build -t, docker tag), as {@link #tag} with a parsed reference. */
    public void reference(Reference reference, Image image) throws IOException {
        lock.lock();
        try {
            boolean unchanged = image.id().equals(refs.get(reference.withDefaultTag().canonical()));
            setReference(reference.withDefaultTag(), image.id());
            if (!unchanged) {
                saveRefs(); // a rebuild that tags the same image again writes (and syncs) nothing
            }
            emit("tag", image.id().toString(), reference.withDefaultTag().familiar());
        } finally {
            lock.unlock();
        }
    }

    private Image commitImage(byte[] configBytes) throws IOException {
        Digest id = Digest.of(configBytes);
        Image image = parse(id, configBytes);
        Path file = configs.resolve(id.hex() + ".json");
        if (!Files.exists(file)) {
            AtomicFiles.write(file, configBytes, AtomicFiles.PUBLIC);
        }
        images.put(id, image);
        return image;
    }

    /** Points a reference at an image; returns the image it pointed at before, if another. */
    private Optional<Digest> setReference(Reference ref, Digest id) {
        Digest previous = refs.put(ref.canonical(), id);
        lastTagTime.put(id, Instant.now());
        return previous == null || previous.equals(id) ? Optional.empty() : Optional.of(previous);
    }

    private void saveRefs() throws IOException {
        ObjectNode n = JSON.createObjectNode();
        ObjectNode r = n.putObject("refs");
        refs.forEach((k, v) -> r.put(k, v.toString()));
        ObjectNode t = n.putObject("lastTagTime");
        lastTagTime.forEach((k, v) -> {
            if (images.containsKey(k)) {
                t.put(k.toString(), v.toString());
            }
        });
        AtomicFiles.write(refsFile, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(n), AtomicFiles.PUBLIC);
    }

    // ---------------------------------------------------------------- load

    /**
     * {@code docker load}: a docker-archive (legacy {@code <id>/layer.tar} or OCI-layout form, layers plain,
     * gzip or zstd), read in one pass by {@link ArchiveLoader}; every layer is verified against the
     * configuration's DiffIDs before anything is committed. Nothing of a failed load stays. Progress lines
     * go to {@code progress}.
     */
    public List<Image> load(InputStream archive, long maxArchiveBytes, Consumer<String> progress) throws IOException {
        lock.lock();
        try {
            List<ArchiveLoader.Loaded> found;
            try (LayerStore.Batch batch = layers.batch()) {
                found = new ArchiveLoader(layers, batch, maxArchiveBytes).load(archive);
                batch.commit();
            } catch (IOException | RuntimeException e) {
                throw translate(e);
            }
            List<Image> loaded = new ArrayList<>();
            for (ArchiveLoader.Loaded l : found) {
                Image image = commitImage(l.config());
                for (Reference tag : l.tags()) {
                    Optional<Digest> replaced = setReference(tag, image.id());
                    replaced.ifPresent(old -> progress.accept("The image " + tag.familiar() + " already exists, renaming the old one with ID "
                            + old + " to empty string\n"));
                    progress.accept("Loaded image: " + tag.familiar() + "\n");
                }
                if (l.tags().isEmpty()) {
                    progress.accept("Loaded image ID: " + image.id() + "\n");
                }
                loaded.add(image);
            }
            saveRefs();
            for (Image image : loaded) {
                emit("load", image.id().toString(), image.id().toString());
            }
            return loaded;
        } finally {
            lock.unlock();
        }
    }

    private static RuntimeException translate(Exception e) {
        if (e instanceof EngineException ee) {
            return ee;
        }
        if (e instanceof LayerUnpacker.InvalidLayerException || e instanceof TarSplit.LayerTooLargeException
                || e instanceof ArchiveReader.InvalidArchiveException) {
            return EngineException.invalid(e.getMessage());
        }
        if (e instanceof IOException io && io.getMessage() != null && io.getMessage().contains("No space left")) {
            return new EngineException(ErrorKind.UNAVAILABLE, "no space left on the device holding the data root");
        }
        return new EngineException(ErrorKind.INTERNAL, e.getMessage(), e);
    }

    /** Maps an unpacking failure of import to the error vocabulary. */
    public static RuntimeException failure(Exception e) {
        return translate(e);
    }

    // ---------------------------------------------------------------- pull

    /** What a pull did: the image and whether the tag already pointed at it. */
    public record PullResult(Image image, Digest manifestDigest, boolean upToDate) {
    }

    /**
     * {@code docker pull}: downloads what is missing (outside the lock), then unpacks and commits under it;
     * a failure leaves nothing of the pull behind.
     */
    public PullResult pull(Reference reference, RegistryCredentials credentials, PullListener listener) throws IOException {
        Reference ref = reference.withDefaultTag();
        Puller.Plan plan = Puller.resolve(registries, ref, credentials, layers, root.resolve("tmp"), listener);
        try (LayerStore.Batch batch = layers.batch()) {
            List<LayerStore.Detached> unpacked = fetchAndUnpack(plan, batch, listener);
            lock.lock();
            try {
                Digest parent = null;
                for (int i = 0; i < plan.diffIds.size(); i++) {
                    Digest chain = Digest.chain(parent, plan.diffIds.get(i));
                    if (!batch.has(chain)) {
                        if (unpacked.get(i) == null) {
                            throw new EngineException(ErrorKind.CONFLICT, "layer " + chain.shortId() + " disappeared during the pull; try again");
                        }
                        batch.adopt(parent, unpacked.get(i));
                    }
                    parent = chain;
                }
                batch.commit();
                Digest id = Digest.of(plan.config);
                boolean upToDate = ref.tag() != null && id.equals(refs.get(ref.canonical()));
                Image image = commitImage(plan.config);
                if (ref.tag() != null) {
                    setReference(ref, image.id());
                }
                refs.put(ref.name() + "@" + plan.manifestDigest, image.id());
                saveRefs();
                for (int i = 0; i < plan.diffIds.size(); i++) {
                    sources.add(plan.diffIds.get(i), plan.sources.get(i)); // a push to that registry mounts or skips them
                }
                sources.manifestType(image.id(), plan.manifestType);
                plan.committed();
                emit("pull", ref.familiar(), ref.familiar());
                return new PullResult(image, plan.manifestDigest, upToDate);
            } finally {
                lock.unlock();
            }
        } catch (IOException | RuntimeException e) {
            throw translate(e);
        } finally {
            plan.discard();
        }
    }

    /** Layers fetched and unpacked at once per pull: downloads overlap with unpacking, and unpacking takes a core. */
    private static final int PULL_PARALLEL = 3;

    /**
     * Downloads and unpacks (detached, verified against its DiffID) every layer the store lacks, up to
     * {@link #PULL_PARALLEL} at a time; index i holds layer i's, null for a layer the store had. The first
     * failure is the pull's; the others stop with it.
     */
    private static List<LayerStore.Detached> fetchAndUnpack(Puller.Plan plan, LayerStore.Batch batch, PullListener listener)
            throws IOException {
        List<java.util.concurrent.Callable<LayerStore.Detached>> tasks = new ArrayList<>();
        for (int i = 0; i < plan.diffIds.size(); i++) {
            int index = i;
            tasks.add(!plan.needed.get(i) ? null : () -> {
                Path blob = plan.download(index);
                String id = plan.blobDigests.get(index).shortId();
                listener.status(id, "Extracting");
                LayerStore.Detached d;
                try (InputStream in = Files.newInputStream(blob)) {
                    d = batch.unpackDetached(in);
                }
                if (!d.diffId().equals(plan.diffIds.get(index))) {
                    throw new LayerUnpacker.InvalidLayerException("layer DiffID mismatch: the configuration says " + plan.diffIds.get(index)
                            + " but the layer's content is " + d.diffId());
                }
                listener.status(id, "Pull complete");
                return d;
            });
        }
        return new Parallel().run("pull-layer", PULL_PARALLEL, tasks);
    }

    // ---------------------------------------------------------------- push, login, distribution

    /**
     * {@code docker push}: the tag given, or with none every tag of the repository, each made complete
     * at its registry (see {@link Pusher}); the manifest digests become the images' RepoDigests. Nothing
     * local changes if a push fails; what reached the registry stays there and is skipped by the next.
     */
    public void push(Reference name, String tag, RegistryCredentials credentials, PushListener listener) throws IOException {
        Reference repo = new Reference(name.domain(), name.path(), null, null);
        java.util.LinkedHashMap<String, Image> targets = new java.util.LinkedHashMap<>();
        lock.lock();
        try {
            String only = tag != null && !tag.isEmpty() ? tag : name.tag();
            for (Map.Entry<String, Digest> e : refs.entrySet()) {
                Reference r = Reference.parse(e.getKey());
                if (r.tag() != null && r.name().equals(repo.name()) && (only == null || only.equals(r.tag()))) {
                    targets.put(r.tag(), images.get(e.getValue()));
                }
            }
            if (targets.isEmpty()) {
                throw EngineException.notFound("An image does not exist locally with the tag: " + repo.familiarName());
            }
        } finally {
            lock.unlock();
        }
        RegistryClient client = new RegistryClient(registries, RegistryClient.hostOf(repo), repo.path(), credentials,
                List.of("repository:" + repo.path() + ":pull,push"));
        listener.status(null, "The push refers to repository [" + repo.name() + "]");
        Pusher pusher = new Pusher(client, repo, layers, sources, listener);
        for (Map.Entry<String, Image> t : targets.entrySet()) {
            Pusher.Pushed pushed = pusher.push(t.getKey(), t.getValue(), layersOf(t.getValue()));
            lock.lock();
            try {
                if (images.containsKey(t.getValue().id())) {
                    refs.put(repo.name() + "@" + pushed.digest(), t.getValue().id());
                    saveRefs();
                }
            } finally {
                lock.unlock();
            }
            emit("push", repo.familiarName() + ":" + t.getKey(), repo.familiarName() + ":" + t.getKey());
            listener.pushed(pushed.tag(), pushed.digest(), pushed.size());
        }
    }

    /**
     * {@code docker login} through the daemon: the registry's {@code /v2/} answered with the credentials.
     * Returns the identity token the registry's token server gave ("" when none).
     */
    public String login(String serverAddress, RegistryCredentials credentials) throws IOException {
        return new RegistryClient(registries, registryHost(serverAddress), "", credentials, List.of()).login();
    }

    /**
     * A login's server address (Docker Hub's index URL, a bare or schemed host with an optional port and
     * path) as the registry it names, in reference form: {@code docker.io}, {@code registry:5000}. Anything
     * else is refused; the policy judges this same value.
     */
    public static String loginRegistry(String serverAddress) {
        String a = serverAddress == null ? "" : serverAddress.strip();
        a = a.replaceFirst("^https?://", "");
        int slash = a.indexOf('/');
        String host = slash >= 0 ? a.substring(0, slash) : a;
        if (host.isEmpty() || host.equals("index.docker.io") || host.equals("registry-1.docker.io") || host.equals(Reference.DEFAULT_DOMAIN)) {
            return Reference.DEFAULT_DOMAIN;
        }
        if (!host.matches("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?|\\[[0-9A-Fa-f:]+\\](:[0-9]{1,5})?")) {
            throw EngineException.invalid("invalid registry address " + serverAddress);
        }
        return host;
    }

    static String registryHost(String serverAddress) {
        String domain = loginRegistry(serverAddress);
        return domain.equals(Reference.DEFAULT_DOMAIN) ? "registry-1.docker.io" : domain;
    }

    /**
     * {@code docker search}: the v1 search of the registry the term names ({@code host/term}), Docker Hub's
     * index otherwise; results as the registry gave them.
     */
    public JsonNode search(String registry, String term, int limit, RegistryCredentials credentials) throws IOException {
        String host = registry.equals(Reference.DEFAULT_DOMAIN) ? "index.docker.io" : registry;
        return new RegistryClient(registries, host, "", credentials, List.of()).search(term, limit);
    }

    /** The descriptor of a reference's manifest at its registry and the platforms it serves. */
    public record Distribution(String mediaType, Digest digest, long size, List<String[]> platforms) {
    }

    /** {@code GET /distribution/{name}/json}: the registry's manifest for a reference, not pulled. */
    public Distribution distribution(Reference reference, RegistryCredentials credentials) throws IOException {
        Reference ref = reference.withDefaultTag();
        RegistryClient client = new RegistryClient(registries, ref, credentials);
        RegistryClient.Manifest m = client.manifest(ref.digest() != null ? ref.digest() : ref.tag());
        List<String[]> platforms = new ArrayList<>();
        if (Puller.isIndex(m)) {
            for (JsonNode entry : m.json().path("manifests")) {
                JsonNode p = entry.path("platform");
                if (!p.path("os").asText().isEmpty() && !p.path("os").asText().equals("unknown")) {
                    platforms.add(new String[] {p.path("architecture").asText(), p.path("os").asText(), p.path("variant").asText("")});
                }
            }
        } else {
            Digest config = Digest.parse(m.json().path("config").path("digest").asText());
            JsonNode c = JSON.readTree(client.blobBytes(config, 16 << 20));
            platforms.add(new String[] {c.path("architecture").asText(), c.path("os").asText(), c.path("variant").asText("")});
        }
        return new Distribution(m.mediaType(), m.digest(), m.body().length, platforms);
    }

    // ---------------------------------------------------------------- save

    /** {@code docker save}: the named images as an archive both Docker 20.10 and 28 load. */
    public void save(List<String> names, OutputStream out) throws IOException {
        Map<Digest, Image> chosen = new LinkedHashMap<>();
        Map<Digest, List<Reference>> tags = new LinkedHashMap<>();
        lock.lock();
        try {
            for (String name : names) {
                Image image = find(name).orElseThrow(() -> EngineException.notFound("No such image: " + name));
                chosen.put(image.id(), image);
                List<Reference> t = tags.computeIfAbsent(image.id(), k -> new ArrayList<>());
                if (!Reference.looksLikeId(name) || name.contains(":") && !name.startsWith("sha256:")) {
                    try {
                        Reference ref = Reference.parse(name).withDefaultTag();
                        if (refs.containsKey(ref.canonical()) && !t.contains(ref)) {
                            t.add(ref);
                        }
                    } catch (EngineException e) {
                        // an ID: no tag
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        List<ArchiveWriter.Item> items = new ArrayList<>();
        for (Image image : chosen.values()) {
            items.add(new ArchiveWriter.Item(image, layersOf(image), tags.get(image.id())));
        }
        new ArchiveWriter(layers).write(items, out);
        for (Image image : chosen.values()) {
            emit("save", image.id().toString(), image.id().toString());
        }
    }

    // ---------------------------------------------------------------- tag, delete, prune

    /** {@code docker tag}: points repo:tag at the image named by source. */
    public void tag(String source, String repo, String tag) throws IOException {
        if (repo == null || repo.isEmpty()) {
            throw EngineException.invalid("repository name must have at least one component");
        }
        Reference target = Reference.parse(repo);
        if (target.tag() != null || target.digest() != null) {
            if (tag != null && !tag.isEmpty()) {
                throw EngineException.invalid("invalid reference format: repository name and tag both carry a tag");
            }
        }
        target = target.tag() != null ? target : target.withTag(tag == null || tag.isEmpty() ? Reference.DEFAULT_TAG : tag);
        if (target.digest() != null) {
            throw EngineException.invalid("refusing to create a tag with a digest reference");
        }
        lock.lock();
        try {
            Image image = find(source).orElseThrow(() -> EngineException.notFound("No such image: " + source));
            setReference(target, image.id());
            saveRefs();
            emit("tag", image.id().toString(), target.familiar());
        } finally {
            lock.unlock();
        }
    }

    /** One line of a delete's answer: an untagged reference or a deleted image. */
    public record Deletion(String untagged, String deleted) {
    }

    /**
     * {@code docker rmi}: removing a reference only untags unless it was the last one; removing by ID
     * deletes the image (with force when several references point at it). Images used by containers are
     * refused (409) unless forced, and never deleted while a running container uses them; the last tag of
     * such an image is only untagged when forced, as dockerd does.
     */
    public List<Deletion> delete(String name, boolean force, boolean noPrune) throws IOException {
        String imageId = find(name).map(i -> i.id().toString()).orElse(name);
        List<Deletion> done = deleteLocked(name, force, noPrune);
        for (Deletion d : done) {
            if (d.untagged() != null) {
                emit("untag", imageId, d.untagged());
            }
            if (d.deleted() != null) {
                emit("delete", d.deleted(), d.deleted());
            }
        }
        return done;
    }

    private List<Deletion> deleteLocked(String name, boolean force, boolean noPrune) throws IOException {
        lock.lock();
        try {
            Image image = find(name).orElseThrow(() -> EngineException.notFound("No such image: " + name));
            List<Deletion> result = new ArrayList<>();
            List<String> allKeys = keysFor(image.id());
            List<String> tagKeys = allKeys.stream().filter(k -> !k.contains("@")).toList();
            boolean byReference = allKeys.stream().anyMatch(k -> matchesReference(name, k));
            List<ImageUsage.User> users = usage.users(image.id());
            if (byReference && tagKeys.size() > 1 && tagKeys.stream().anyMatch(k -> matchesReference(name, k))) {
                String key = tagKeys.stream().filter(k -> matchesReference(name, k)).findFirst().orElseThrow();
                refs.remove(key);
                saveRefs();
                result.add(new Deletion(Reference.parse(key).familiar(), null));
                return result;
            }
            if (byReference && !users.isEmpty()) {
                // the last tag of an image containers use: refused unless forced, then only untagged (dockerd's rule and words)
                String key = allKeys.stream().filter(k -> matchesReference(name, k)).findFirst().orElseThrow();
                String familiar = Reference.parse(key).familiar();
                if (!force) {
                    ImageUsage.User user = users.stream().filter(ImageUsage.User::running).findFirst().orElse(users.get(0));
                    throw EngineException.conflict("conflict: unable to remove repository reference \"" + familiar + "\" (must force) - container "
                            + user.id().substring(0, 12) + " is using its referenced image " + image.id().shortId());
                }
                refs.remove(key);
                saveRefs();
                result.add(new Deletion(familiar, null));
                return result;
            }
            if (!byReference && tagKeys.size() > 1 && !force) {
                throw EngineException.conflict("conflict: unable to delete " + image.id().shortId()
                        + " (must be forced) - image is referenced in multiple repositories");
            }
            if (!users.isEmpty()) {
                ImageUsage.User user = users.stream().filter(ImageUsage.User::running).findFirst().orElse(users.get(0));
                if (user.running()) {
                    throw EngineException.conflict("conflict: unable to delete " + (byReference ? name : image.id().shortId())
                            + " (cannot be forced) - image is being used by running container " + user.id().substring(0, 12));
                }
                if (!force) {
                    throw EngineException.conflict("conflict: unable to delete " + (byReference ? name : image.id().shortId())
                            + " (must be forced) - image is being used by stopped container " + user.id().substring(0, 12));
                }
                // Forced with stopped users: untag only, keep the image for its containers (as Docker does).
                for (String k : allKeys) {
                    refs.remove(k);
                    result.add(new Deletion(Reference.parse(k).familiar(), null));
                }
                saveRefs();
                return result;
            }
            if (hasChildren(image)) {
                // images were made from it (a build's steps, a commit): by name only untagged, by ID refused (dockerd's rule)
                if (!byReference) {
                    throw EngineException.conflict("conflict: unable to delete " + image.id().shortId()
                            + " (cannot be forced) - image has dependent child images");
                }
                String key = allKeys.stream().filter(k -> matchesReference(name, k)).findFirst().orElseThrow();
                refs.remove(key);
                saveRefs();
                result.add(new Deletion(Reference.parse(key).familiar(), null));
                return result;
            }
            for (String k : allKeys) {
                refs.remove(k);
                result.add(new Deletion(Reference.parse(k).familiar(), null));
            }
            String parent = parentOf(image);
            result.addAll(removeImage(image, noPrune));
            if (!noPrune) {
                // the untagged images it was made from (a build's intermediate images) go with it, as dockerd's rmi does
                while (!parent.isEmpty()) {
                    Image p = images.get(Digest.parse(parent));
                    if (p == null || !keysFor(p.id()).isEmpty() || hasChildren(p) || !usage.users(p.id()).isEmpty()) {
                        break;
                    }
                    parent = parentOf(p);
                    result.addAll(removeImage(p, false));
                }
            }
            saveRefs();
            return result;
        } finally {
            lock.unlock();
        }
    }

    /** Whether an image was made from this one (its ID is another's parent). */
    private boolean hasChildren(Image image) {
        String id = image.id().toString();
        return images.values().stream().anyMatch(i -> id.equals(i.config().path("parent").asText("")));
    }

    private static boolean matchesReference(String name, String key) {
        try {
            return Reference.parse(name).withDefaultTag().canonical().equals(key);
        } catch (EngineException e) {
            return false;
        }
    }

    private List<String> keysFor(Digest id) {
        List<String> keys = new ArrayList<>();
        refs.forEach((k, v) -> {
            if (v.equals(id)) {
                keys.add(k);
            }
        });
        return keys;
    }

    /** Removes the configuration, then every layer no other image uses. */
    private List<Deletion> removeImage(Image image, boolean noPrune) throws IOException {
        Files.deleteIfExists(configs.resolve(image.id().hex() + ".json"));
        Files.deleteIfExists(configs.resolve(image.id().hex() + ".owner"));
        images.remove(image.id());
        lastTagTime.remove(image.id());
        List<Deletion> result = new ArrayList<>();
        result.add(new Deletion(null, image.id().toString()));
        Set<Digest> stillUsed = new HashSet<>();
        images.values().forEach(i -> stillUsed.addAll(i.chainIds()));
        List<Digest> chains = new ArrayList<>(image.chainIds());
        java.util.Collections.reverse(chains);
        for (Digest chain : chains) {
            if (!stillUsed.contains(chain)) {
                Optional<Layer> layer = layers.get(chain);
                if (layer.isPresent()) {
                    layers.remove(layer.get());
                    result.add(new Deletion(null, chain.toString()));
                }
            }
        }
        return result;
    }

    /** What a prune removed. */
    public record PruneResult(List<Deletion> deleted, long spaceReclaimed) {
    }

    /**
     * {@code docker image prune}: dangling (untagged) images not used by containers, or with all every
     * unused image; optionally only those matching the label and until filters.
     */
    public PruneResult prune(boolean all, java.util.function.Predicate<Image> filter) throws IOException {
        lock.lock();
        try {
            List<Deletion> deleted = new ArrayList<>();
            long reclaimed = 0;
            long pass;
            // pass after pass: a removed image's parent may be prunable now (a build's abandoned chain)
            while ((pass = prunePass(all, filter, deleted)) >= 0) {
                reclaimed += pass;
            }
            saveRefs();
            return new PruneResult(deleted, reclaimed);
        } finally {
            lock.unlock();
        }
    }

    /** One pass of prune: the bytes it freed, or -1 when it removed nothing. */
    private long prunePass(boolean all, java.util.function.Predicate<Image> filter, List<Deletion> deleted) throws IOException {
        java.util.Set<String> parents = new java.util.HashSet<>();
        images.values().forEach(i -> parents.add(i.config().path("parent").asText("")));
        long reclaimed = -1;
        for (Image image : new ArrayList<>(images.values())) {
            List<String> keys = keysFor(image.id());
            boolean tagged = keys.stream().anyMatch(k -> !k.contains("@"));
            if ((!all && tagged) || !usage.users(image.id()).isEmpty() || !filter.test(image)) {
                continue;
            }
            if (parents.contains(image.id().toString())) {
                continue; // an image others were made from (a build step's): kept while they exist, as dockerd
            }
            long before = layers.all().stream().mapToLong(Layer::diskSize).sum();
            for (String k : keys) {
                refs.remove(k);
                deleted.add(new Deletion(Reference.parse(k).familiar(), null));
            }
            deleted.addAll(removeImage(image, false));
            reclaimed = Math.max(reclaimed, 0) + before - layers.all().stream().mapToLong(Layer::diskSize).sum();
        }
        return reclaimed;
    }

    /** Who made the image (a build's or commit's caller: an owner key), "" when unknown. */
    public String ownerOf(Image image) {
        Path f = configs.resolve(image.id().hex() + ".owner");
        try {
            return Files.exists(f) ? Files.readString(f).strip() : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** The image a local one was made from (commit, build), "" for pulled, loaded and imported ones. */
    public String parentOf(Image image) {
        String parent = image.config().path("parent").asText("");
        return parent.startsWith("sha256:") && images.containsKey(Digest.parse(parent)) ? parent : "";
    }

    static String iso(Instant t) {
        return t.truncatedTo(ChronoUnit.NANOS).toString();
    }

    static byte[] json(Object o) {
        try {
            return JSON.writeValueAsBytes(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** All the references in the store, familiar form, for listing. */
    public Set<String> allReferences() {
        lock.lock();
        try {
            Set<String> result = new LinkedHashSet<>();
            refs.keySet().forEach(k -> result.add(Reference.parse(k).familiar()));
            return result;
        } finally {
            lock.unlock();
        }
    }
}
