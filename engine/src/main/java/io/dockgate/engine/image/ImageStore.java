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
    private final ImageNames names = new ImageNames();
    private final Map<Digest, Instant> lastTagTime = new LinkedHashMap<>();
    private volatile ImageUsage usage = ImageUsage.NONE;

    /** Who uses images (containers): consulted before deletion and pruning. */
    public interface ImageUsage {
        ImageUsage NONE = id -> List.of();

        /** Containers using the image: name and whether running. */
        List<User> users(Digest imageId);

        /** One container that uses an image, and its owner key ("" for none). */
        record User(String id, boolean running, String owner) {
            public User(String id, boolean running) {
                this(id, running, "");
            }
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

    /** An image event; a tenant's are seen by that tenant (and by callers who see everything). */
    private void emit(ImageNamespace ns, String action, String id, String name) {
        events.emit("image", action, id, io.dockgate.engine.events.Events.attributes("name", name),
                ns.common() ? Map.of() : Map.of(io.dockgate.engine.container.ContainerSpec.OWNER_LABEL, ns.owner()));
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
            names.read(n, images.keySet());
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
        LOG.info("image store: {} images, {} references", images.size(), names.size());
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

    /** Every image, newest first. */
    public List<Image> list() {
        return list(null);
    }

    /** The images a namespace lists (held, or shared with it), newest first; null: every image. */
    public List<Image> list(ImageNamespace ns) {
        lock.lock();
        try {
            List<Image> all = new ArrayList<>(images.values());
            if (ns != null) {
                all.removeIf(i -> !names.listed(ns, i.id()));
            }
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

    /** The common namespace's references to an image. */
    public List<Reference> references(Digest id) {
        return references(ImageNamespace.COMMON, id);
    }

    /** The references to an image a namespace sees (its own, and the shared common ones). */
    public List<Reference> references(ImageNamespace ns, Digest id) {
        lock.lock();
        try {
            return names.references(ns, id);
        } finally {
            lock.unlock();
        }
    }

    /** Whether the namespace sees a tag of the repository (that tag, when one is given): something to push. */
    public boolean tagged(ImageNamespace ns, Reference repository, String tag) {
        lock.lock();
        try {
            return !tagsOf(ns, repository, tag).isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /** The tags of a repository the namespace sees (only the one given, if any), tag to image; under the lock. */
    private Map<String, Image> tagsOf(ImageNamespace ns, Reference repository, String tag) {
        String only = tag != null && !tag.isEmpty() ? tag : repository.tag();
        Map<String, Image> found = new LinkedHashMap<>();
        for (Map.Entry<String, Digest> e : names.visible(ns).entrySet()) {
            Reference r = Reference.parse(e.getKey());
            if (r.tag() != null && r.name().equals(repository.name()) && (only == null || only.equals(r.tag()))) {
                found.put(r.tag(), images.get(e.getValue()));
            }
        }
        return found;
    }

    /** Who holds an image: owner keys, "" for the common namespace. */
    public Set<String> holders(Digest id) {
        lock.lock();
        try {
            return Set.copyOf(names.holders(id));
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
        return resolve(ImageNamespace.COMMON, nameOrId);
    }

    /**
     * As {@link #resolve(String)} in a namespace: its names (and the shared common ones), and by ID the
     * images it reaches; others' answer exactly as missing ones, an ID prefix is unique among those.
     */
    public Image resolve(ImageNamespace ns, String nameOrId) {
        lock.lock();
        try {
            return find(ns, nameOrId).orElseThrow(() -> EngineException.notFound("No such image: " + nameOrId));
        } finally {
            lock.unlock();
        }
    }

    private Optional<Image> find(ImageNamespace ns, String text) {
        if (text.startsWith("sha256:") && text.length() == 71) {
            try {
                Digest id = Digest.parse(text);
                return Optional.ofNullable(images.get(id)).filter(i -> names.reachable(ns, id));
            } catch (EngineException e) {
                return Optional.empty();
            }
        }
        try {
            Reference ref = Reference.parse(text).withDefaultTag();
            Digest id = names.lookup(ns, ref);
            if (id != null) {
                return Optional.of(images.get(id));
            }
        } catch (EngineException e) {
            // not a valid reference: maybe an ID prefix
        }
        if (Reference.looksLikeId(text)) {
            String prefix = text.startsWith("sha256:") ? text.substring(7) : text;
            List<Image> matches = images.values().stream().filter(i -> i.id().hex().startsWith(prefix))
                    .filter(i -> names.reachable(ns, i.id())).toList();
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
        return importRootfs(ImageNamespace.COMMON, tar, reference, message, changes, architecture);
    }

    /** As {@link #importRootfs(InputStream, Optional, String, List, String)}, into a namespace (which holds the image). */
    public Image importRootfs(ImageNamespace ns, InputStream tar, Optional<Reference> reference, String message, List<String> changes,
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
            names.hold(ns, image.id());
            reference.ifPresent(r -> setReference(ns, r.withDefaultTag(), image.id()));
            saveRefs();
            emit(ns, "import", image.id().toString(), reference.map(r -> r.withDefaultTag().familiar()).orElse(image.id().toString()));
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
                             boolean emptyLayer, String container, String owner, ImageNamespace namespace) {
        public ChildImage(com.fasterxml.jackson.databind.JsonNode runConfig, String author, String comment, String createdBy,
                          boolean emptyLayer, String container) {
            this(runConfig, author, comment, createdBy, emptyLayer, container, "", ImageNamespace.COMMON);
        }

        /** The same, made on behalf of a caller: its owner key, and the namespace that holds (and names) the image. */
        public ChildImage ownedBy(String newOwner, ImageNamespace in) {
            return new ChildImage(runConfig, author, comment, createdBy, emptyLayer, container, newOwner == null ? "" : newOwner,
                    in == null ? ImageNamespace.COMMON : in);
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
            boolean held = names.holders(image.id()).contains(child.namespace().owner());
            names.hold(child.namespace(), image.id());
            if (reference.isPresent()) {
                setReference(child.namespace(), reference.get().withDefaultTag(), image.id());
            }
            if (reference.isPresent() || !held) {
                saveRefs();
            }
            if (reference.isPresent()) {
                emit(child.namespace(), "tag", image.id().toString(), reference.get().withDefaultTag().familiar());
            }
            return image;
        } finally {
            lock.unlock();
        }
    }

    /** Points a reference at an image (docker build -t, docker tag), as {@link #tag} with a parsed reference. */
    public void reference(ImageNamespace ns, Reference reference, Image image) throws IOException {
        lock.lock();
        try {
            boolean unchanged = image.id().equals(names.own(ns, reference.withDefaultTag().canonical()));
            setReference(ns, reference.withDefaultTag(), image.id());
            if (!unchanged) {
                saveRefs(); // a rebuild that tags the same image again writes (and syncs) nothing
            }
            emit(ns, "tag", image.id().toString(), reference.withDefaultTag().familiar());
        } finally {
            lock.unlock();
        }
    }

    /** The namespace holds the image (a build's result, found in the cache). */
    public void hold(ImageNamespace ns, Image image) throws IOException {
        lock.lock();
        try {
            if (images.containsKey(image.id()) && !names.holders(image.id()).contains(ns.owner())) {
                names.hold(ns, image.id());
                saveRefs();
            }
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

    /** Points a reference of the namespace at an image (which it then holds); returns the image it pointed at before, if another. */
    private Optional<Digest> setReference(ImageNamespace ns, Reference ref, Digest id) {
        Digest previous = names.put(ns, ref.canonical(), id);
        lastTagTime.put(id, Instant.now());
        return Optional.ofNullable(previous);
    }

    private void saveRefs() throws IOException {
        ObjectNode n = JSON.createObjectNode();
        names.write(n);
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
        return load(ImageNamespace.COMMON, archive, maxArchiveBytes, progress);
    }

    /** As {@link #load(InputStream, long, Consumer)}, into a namespace: its names, its holds. */
    public List<Image> load(ImageNamespace ns, InputStream archive, long maxArchiveBytes, Consumer<String> progress) throws IOException {
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
                names.hold(ns, image.id());
                for (Reference tag : l.tags()) {
                    Optional<Digest> replaced = setReference(ns, tag, image.id());
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
                emit(ns, "load", image.id().toString(), image.id().toString());
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
        return pull(ImageNamespace.COMMON, reference, credentials, listener);
    }

    /** As {@link #pull(Reference, RegistryCredentials, PullListener)}, into a namespace: its names, its holds. */
    public PullResult pull(ImageNamespace ns, Reference reference, RegistryCredentials credentials, PullListener listener) throws IOException {
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
                boolean upToDate = ref.tag() != null && id.equals(names.own(ns, ref.canonical()));
                Image image = commitImage(plan.config);
                if (ref.tag() != null) {
                    setReference(ns, ref, image.id());
                }
                names.put(ns, ref.name() + "@" + plan.manifestDigest, image.id());
                saveRefs();
                for (int i = 0; i < plan.diffIds.size(); i++) {
                    sources.add(plan.diffIds.get(i), plan.sources.get(i)); // a push to that registry mounts or skips them
                }
                sources.manifestType(image.id(), plan.manifestType);
                plan.committed();
                emit(ns, "pull", ref.familiar(), ref.familiar());
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
        push(ImageNamespace.COMMON, name, tag, credentials, listener);
    }

    /** As {@link #push(Reference, String, RegistryCredentials, PushListener)}: the tags the namespace sees. */
    public void push(ImageNamespace ns, Reference name, String tag, RegistryCredentials credentials, PushListener listener) throws IOException {
        Reference repo = new Reference(name.domain(), name.path(), null, null);
        Map<String, Image> targets;
        lock.lock();
        try {
            targets = tagsOf(ns, name, tag);
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
                    names.put(ns, repo.name() + "@" + pushed.digest(), t.getValue().id());
                    saveRefs();
                }
            } finally {
                lock.unlock();
            }
            emit(ns, "push", repo.familiarName() + ":" + t.getKey(), repo.familiarName() + ":" + t.getKey());
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
        save(ImageNamespace.COMMON, names, out);
    }

    /** As {@link #save(List, OutputStream)}: the names as the namespace sees them. */
    public void save(ImageNamespace ns, List<String> wanted, OutputStream out) throws IOException {
        Map<Digest, Image> chosen = new LinkedHashMap<>();
        Map<Digest, List<Reference>> tags = new LinkedHashMap<>();
        lock.lock();
        try {
            for (String name : wanted) {
                Image image = find(ns, name).orElseThrow(() -> EngineException.notFound("No such image: " + name));
                chosen.put(image.id(), image);
                List<Reference> t = tags.computeIfAbsent(image.id(), k -> new ArrayList<>());
                if (!Reference.looksLikeId(name) || name.contains(":") && !name.startsWith("sha256:")) {
                    try {
                        Reference ref = Reference.parse(name).withDefaultTag();
                        if (names.lookup(ns, ref) != null && !t.contains(ref)) {
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
            emit(ns, "save", image.id().toString(), image.id().toString());
        }
    }

    // ---------------------------------------------------------------- tag, delete, prune

    /** {@code docker tag}: points repo:tag at the image named by source. */
    public void tag(String source, String repo, String tag) throws IOException {
        tag(ImageNamespace.COMMON, source, repo, tag);
    }

    /** As {@link #tag(String, String, String)} in a namespace: an image it sees gets a name of its own (and its hold). */
    public void tag(ImageNamespace ns, String source, String repo, String tag) throws IOException {
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
            Image image = find(ns, source).orElseThrow(() -> EngineException.notFound("No such image: " + source));
            setReference(ns, target, image.id());
            saveRefs();
            emit(ns, "tag", image.id().toString(), target.familiar());
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
        return delete(ImageNamespace.COMMON, name, force, noPrune);
    }

    /**
     * As {@link #delete(String, boolean, boolean)} in a namespace: its names are untagged, and the image
     * it deletes is let go of; the image and its layers are removed only when nobody else holds it and no
     * container uses it. A tenant cannot remove a shared common name, nor an image only shared with it
     * (403); the common namespace removes an image only tenants hold by ID, when forced.
     */
    public List<Deletion> delete(ImageNamespace ns, String name, boolean force, boolean noPrune) throws IOException {
        String imageId;
        lock.lock();
        try {
            imageId = find(ns, name).map(i -> i.id().toString()).orElse(name);
        } finally {
            lock.unlock();
        }
        List<Deletion> done = deleteLocked(ns, name, force, noPrune);
        for (Deletion d : done) {
            if (d.untagged() != null) {
                emit(ns, "untag", imageId, d.untagged());
            }
            if (d.deleted() != null) {
                emit(ns, "delete", d.deleted(), d.deleted());
            }
        }
        return done;
    }

    /** The containers the namespace may know of that use an image: all for the common one, a tenant's own. */
    private List<ImageUsage.User> usersSeen(ImageNamespace ns, Digest id) {
        List<ImageUsage.User> all = usage.users(id);
        return ns.common() ? all : all.stream().filter(u -> ns.owner().equals(u.owner())).toList();
    }

    private List<Deletion> deleteLocked(ImageNamespace ns, String name, boolean force, boolean noPrune) throws IOException {
        lock.lock();
        try {
            Image image = find(ns, name).orElseThrow(() -> EngineException.notFound("No such image: " + name));
            List<Deletion> result = new ArrayList<>();
            List<String> allKeys = names.keys(ns, image.id());
            List<String> tagKeys = allKeys.stream().filter(k -> !k.contains("@")).toList();
            boolean byReference = allKeys.stream().anyMatch(k -> matchesReference(name, k));
            if (!ns.common() && (!byReference && !Reference.looksLikeId(name) || !names.holds(ns, image.id()))) {
                throw new EngineException(ErrorKind.PERMISSION_DENIED, "image " + name
                        + " is shared with you by the authorization policy: only the caller who made or pulled it can remove it");
            }
            boolean foreign = ns.common() && !names.holds(ns, image.id());
            if (foreign && !force) {
                // an image only tenants hold, reached by ID: removed for everyone, and only when forced
                throw EngineException.conflict("conflict: unable to delete " + image.id().shortId()
                        + " (must be forced) - image is held by other owners");
            }
            List<ImageUsage.User> users = usersSeen(ns, image.id());
            if (byReference && tagKeys.size() > 1 && tagKeys.stream().anyMatch(k -> matchesReference(name, k))) {
                String key = tagKeys.stream().filter(k -> matchesReference(name, k)).findFirst().orElseThrow();
                names.remove(ns, key);
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
                names.remove(ns, key);
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
                    names.remove(ns, k);
                    result.add(new Deletion(Reference.parse(k).familiar(), null));
                }
                saveRefs();
                return result;
            }
            if (hasChildren(ns, image)) {
                // images were made from it (a build's steps, a commit): by name only untagged, by ID refused (dockerd's rule)
                if (!byReference) {
                    throw EngineException.conflict("conflict: unable to delete " + image.id().shortId()
                            + " (cannot be forced) - image has dependent child images");
                }
                String key = allKeys.stream().filter(k -> matchesReference(name, k)).findFirst().orElseThrow();
                names.remove(ns, key);
                saveRefs();
                result.add(new Deletion(Reference.parse(key).familiar(), null));
                return result;
            }
            for (String k : allKeys) {
                result.add(new Deletion(Reference.parse(k).familiar(), null));
            }
            String parent = parentOf(image);
            if (foreign) {
                for (String owner : Set.copyOf(names.holders(image.id()))) {
                    names.release(ImageNamespace.of(owner, r -> false), image.id());
                }
            }
            result.addAll(letGo(ns, image, noPrune));
            if (!noPrune) {
                // the untagged images it was made from (a build's intermediate images) go with it, as dockerd's rmi does
                while (!parent.isEmpty()) {
                    Image p = images.get(Digest.parse(parent));
                    if (p == null || !names.holds(ns, p.id()) || !names.keys(ns, p.id()).isEmpty() || hasChildren(ns, p)
                            || !usersSeen(ns, p.id()).isEmpty()) {
                        break;
                    }
                    parent = parentOf(p);
                    result.addAll(letGo(ns, p, false));
                }
            }
            saveRefs();
            return result;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The namespace lets go of an image (and its names of it): removed with the layers nobody else uses when
     * nobody else holds it, no container uses it and no image was made from it; else kept for the others.
     */
    private List<Deletion> letGo(ImageNamespace ns, Image image, boolean noPrune) throws IOException {
        boolean unheld = names.release(ns, image.id());
        if (unheld && usage.users(image.id()).isEmpty() && !hasChildren(ImageNamespace.COMMON, image)) {
            return removeImage(image, noPrune);
        }
        if (unheld) {
            names.hold(ImageNamespace.COMMON, image.id()); // what containers or children still use falls to the common namespace
        }
        return List.of(new Deletion(null, image.id().toString()));
    }

    /** Whether an image was made from this one (its ID is another's parent). */
    /** Whether an image the namespace lists (the common one: any image) was made from this one. */
    private boolean hasChildren(ImageNamespace ns, Image image) {
        String id = image.id().toString();
        return images.values().stream().anyMatch(i -> id.equals(i.config().path("parent").asText(""))
                && (ns.common() || names.listed(ns, i.id())));
    }

    private static boolean matchesReference(String name, String key) {
        try {
            return Reference.parse(name).withDefaultTag().canonical().equals(key);
        } catch (EngineException e) {
            return false;
        }
    }

    /** Removes the configuration, then every layer no other image uses. */
    private List<Deletion> removeImage(Image image, boolean noPrune) throws IOException {
        Files.deleteIfExists(configs.resolve(image.id().hex() + ".json"));
        Files.deleteIfExists(configs.resolve(image.id().hex() + ".owner"));
        images.remove(image.id());
        names.forget(image.id());
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
        return prune(ImageNamespace.COMMON, all, filter);
    }

    /**
     * As {@link #prune(boolean, java.util.function.Predicate)} for a namespace: the images it holds that its
     * containers do not use are let go of (removed when nobody else holds or uses them).
     */
    public PruneResult prune(ImageNamespace ns, boolean all, java.util.function.Predicate<Image> filter) throws IOException {
        lock.lock();
        try {
            List<Deletion> deleted = new ArrayList<>();
            long reclaimed = 0;
            long pass;
            // pass after pass: a removed image's parent may be prunable now (a build's abandoned chain)
            while ((pass = prunePass(ns, all, filter, deleted)) >= 0) {
                reclaimed += pass;
            }
            saveRefs();
            return new PruneResult(deleted, reclaimed);
        } finally {
            lock.unlock();
        }
    }

    /** One pass of prune: the bytes it freed, or -1 when it removed nothing. */
    private long prunePass(ImageNamespace ns, boolean all, java.util.function.Predicate<Image> filter, List<Deletion> deleted)
            throws IOException {
        java.util.Set<String> parents = new java.util.HashSet<>();
        images.values().forEach(i -> {
            if (ns.common() || names.listed(ns, i.id())) {
                parents.add(i.config().path("parent").asText(""));
            }
        });
        long reclaimed = -1;
        for (Image image : new ArrayList<>(images.values())) {
            if (!names.holds(ns, image.id())) {
                continue;
            }
            List<String> keys = names.keys(ns, image.id());
            boolean tagged = keys.stream().anyMatch(k -> !k.contains("@"));
            if ((!all && tagged) || !usersSeen(ns, image.id()).isEmpty() || !filter.test(image)) {
                continue;
            }
            if (parents.contains(image.id().toString())) {
                continue; // an image others were made from (a build step's): kept while they exist, as dockerd
            }
            long before = layers.all().stream().mapToLong(Layer::diskSize).sum();
            for (String k : keys) {
                deleted.add(new Deletion(Reference.parse(k).familiar(), null));
            }
            deleted.addAll(letGo(ns, image, false));
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
            names.commonKeys().forEach(k -> result.add(Reference.parse(k).familiar()));
            return result;
        } finally {
            lock.unlock();
        }
    }
}
