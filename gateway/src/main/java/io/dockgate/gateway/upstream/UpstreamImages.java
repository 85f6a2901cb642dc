package io.dockgate.gateway.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.image.ImageNamespace;
import io.dockgate.engine.image.Reference;
import io.dockgate.gateway.request.DockerJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Image tenancy over an upstream engine, which has one set of image names (dockerd's): this daemon keeps
 * the record the upstream cannot, of which names tenants made (load, import, pull, tag, build, commit)
 * and which images they hold by ID. A name not in the record is common: the upstream's own, or made by a
 * caller without tenancy. A tenant sees its own names, the common names its binding shares, and the
 * images it holds or reaches by those names; it may make a name nobody else has (or one of its own), and
 * pull a shared name, which stays common; a name of another namespace is refused, as the upstream would
 * move it. Persisted by rename in one small file (names and holds, no image data).
 */
public final class UpstreamImages {
    /**
     * Where this daemon keeps an image a tenant holds that has no name left upstream (dockerd deletes an image
     * with its last name): {@code dockgate/held:<hex ID>}, shown to the administrators, to no tenant.
     */
    public static final String HOLDING_REPOSITORY = "dockgate/held";

    private final RecordFile file;
    /** Tenants' names (canonical, with their tag) and their owners. */
    private final Map<String, String> names = new TreeMap<>();
    /** Image IDs tenants hold, and the tenants. */
    private final Map<String, Set<String>> holds = new TreeMap<>();

    private UpstreamImages(Path file) {
        this.file = new RecordFile(file, "upstream image owners");
    }

    /** The record kept at the file (none yet: empty); a file that cannot be read stops the start, naming it. */
    public static UpstreamImages open(Path file) {
        UpstreamImages record = new UpstreamImages(file);
        byte[] bytes = record.file.read();
        if (bytes == null) {
            return record;
        }
        try {
            JsonNode json = DockerJson.MAPPER.readTree(bytes);
            json.path("names").fields().forEachRemaining(e -> record.names.put(e.getKey(), e.getValue().asText()));
            json.path("holds").fields().forEachRemaining(e -> {
                Set<String> owners = new TreeSet<>();
                e.getValue().forEach(o -> owners.add(o.asText()));
                record.holds.put(e.getKey(), owners);
            });
            return record;
        } catch (IOException | RuntimeException e) {
            throw new EngineException(ErrorKind.INTERNAL, "cannot read the record of upstream image owners " + file + ": " + e.getMessage());
        }
    }

    /** A name's key: canonical with its tag (latest when none); empty for a digest reference or an invalid name. */
    static Optional<String> key(String name) {
        try {
            Reference r = Reference.parse(name);
            return r.digest() != null ? Optional.empty() : Optional.of(r.withDefaultTag().canonical());
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Whether a tag is a holding name. */
    static boolean holding(String tag) {
        try {
            Reference r = Reference.parse(tag);
            return r.familiarName().equals(HOLDING_REPOSITORY);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The image ID in its long form (sha256:hex). */
    static String longId(String id) {
        return id.startsWith("sha256:") ? id : "sha256:" + id;
    }

    /** Names made by an owner ("" for the common namespace: tenants' records of them end) for an image (null: unknown). */
    public synchronized void made(String owner, Collection<String> made, String imageId) {
        boolean changed = false;
        for (String n : made) {
            Optional<String> k = key(n);
            if (k.isPresent()) {
                changed |= owner.isEmpty() ? names.remove(k.get()) != null : !owner.equals(names.put(k.get(), owner));
            }
        }
        if (!owner.isEmpty() && imageId != null && !imageId.isEmpty()) {
            changed |= holds.computeIfAbsent(longId(imageId), i -> new TreeSet<>()).add(owner);
        }
        if (changed) {
            save();
        }
    }

    /** A name the upstream no longer has. */
    public synchronized void untagged(String name) {
        if (key(name).map(names::remove).isPresent()) {
            save();
        }
    }

    /** An image the upstream deleted: nobody holds it any more. */
    public synchronized void deleted(String imageId) {
        if (holds.remove(longId(imageId)) != null) {
            save();
        }
    }

    /** An owner lets go of an image it held. */
    public synchronized void letGo(String owner, String imageId) {
        Set<String> h = holds.get(longId(imageId));
        if (h != null && h.remove(owner)) {
            if (h.isEmpty()) {
                holds.remove(longId(imageId));
            }
            save();
        }
    }

    /** Whether anyone but the owner holds the image. */
    public synchronized boolean heldByOthers(String imageId, String owner) {
        Set<String> h = holds.get(longId(imageId));
        return h != null && h.stream().anyMatch(o -> !o.equals(owner));
    }

    private synchronized String ownerOf(String key) {
        return names.get(key);
    }

    private synchronized boolean held(String imageId, String owner) {
        Set<String> h = holds.get(longId(imageId));
        return h != null && h.contains(owner);
    }

    /** The record as it is now, written by rename off the caller's thread. */
    private void save() {
        ObjectNode json = DockerJson.MAPPER.createObjectNode();
        ObjectNode n = json.putObject("names");
        names.forEach(n::put);
        ObjectNode h = json.putObject("holds");
        holds.forEach((id, owners) -> owners.forEach(h.withArray(id)::add));
        try {
            file.write(DockerJson.MAPPER.writeValueAsBytes(json));
        } catch (IOException e) {
            throw new EngineException(ErrorKind.INTERNAL, "cannot serialise the record of upstream image owners: " + e.getMessage());
        }
    }

    /** Waits for what was recorded to be on disk. */
    public void sync() {
        file.sync();
    }

    /** The images as a namespace sees them. */
    public View view(ImageNamespace namespace) {
        return new View(namespace);
    }

    /** How a name may be made in a namespace, or why not. */
    public record Making(String owner, String refusal) {
        boolean refused() {
            return refusal != null;
        }
    }

    /** One namespace's view: the common one sees everything (the upstream's one set of names). */
    public final class View {
        private final ImageNamespace namespace;

        private View(ImageNamespace namespace) {
            this.namespace = namespace;
        }

        public boolean common() {
            return namespace.common();
        }

        public String owner() {
            return namespace.owner();
        }

        /** Whether a tag (any form: busybox, busybox:latest, docker.io/library/busybox:latest) is the namespace's to see. */
        public boolean nameVisible(String name) {
            if (common()) {
                return true;
            }
            Optional<String> k = key(name);
            if (k.isEmpty() || holding(name)) {
                return false;
            }
            String o = ownerOf(k.get());
            return o == null ? namespace.shared().test(Reference.parse(name).withDefaultTag()) : o.equals(namespace.owner());
        }

        /** Whether the name is one the namespace made (never a common one). */
        public boolean owns(String name) {
            return !common() && key(name).map(k -> namespace.owner().equals(ownerOf(k))).orElse(false);
        }

        /** Whether the namespace holds the image. */
        public boolean holds(String imageId) {
            return !common() && held(imageId, namespace.owner());
        }

        /** Whether a reference (a name, an ID or prefix, a digest) to the image (its inspect) is the namespace's to reach. */
        public boolean reaches(String ref, JsonNode image) {
            if (common()) {
                return true;
            }
            return ImageRelay.isName(ref, image) ? nameVisible(ref) : imageVisible(image.path("Id").asText(), image.path("RepoTags"));
        }

        /** Whether the namespace reaches an image: it holds it, or sees one of its tags. */
        public boolean imageVisible(String imageId, JsonNode repoTags) {
            if (common() || held(imageId, namespace.owner())) {
                return true;
            }
            for (JsonNode t : repoTags) {
                if (nameVisible(t.asText())) {
                    return true;
                }
            }
            return false;
        }

        /** The tags (RepoTags) the namespace sees. */
        public List<String> visibleTags(JsonNode repoTags) {
            List<String> out = new ArrayList<>();
            repoTags.forEach(t -> {
                if (nameVisible(t.asText())) {
                    out.add(t.asText());
                }
            });
            return out;
        }

        /**
         * An image summary or inspect seen by the namespace: its tags cut to those it sees, its digests to the
         * repositories of those tags (a pull by digest, without a tag, leaves the digests of an image held).
         */
        public void trim(ObjectNode image, String idField) {
            if (common()) {
                return;
            }
            JsonNode tags = image.path("RepoTags");
            List<String> visible = visibleTags(tags);
            Set<String> repos = new LinkedHashSet<>();
            for (String t : visible) {
                repos.add(Reference.parse(t).name());
            }
            boolean held = held(image.path(idField).asText(), namespace.owner());
            List<String> digests = new ArrayList<>();
            image.path("RepoDigests").forEach(d -> {
                try {
                    if (repos.contains(Reference.parse(d.asText()).name()) || held && visible.isEmpty()) {
                        digests.add(d.asText());
                    }
                } catch (RuntimeException e) {
                    // not a reference: left out
                }
            });
            if (image.has("RepoTags") && !image.path("RepoTags").isNull()) {
                visible.forEach(image.putArray("RepoTags")::add);
            }
            if (image.has("RepoDigests") && !image.path("RepoDigests").isNull()) {
                digests.forEach(image.putArray("RepoDigests")::add);
            }
        }

        /**
         * Whether the namespace may make a name (exists: whether the upstream has it now; pulled: it comes
         * from its registry): the owner it will have, or the refusal.
         */
        public Making making(String name, boolean exists, boolean pulled) {
            Optional<String> k = key(name);
            if (common()) {
                return new Making("", null);
            }
            if (k.isEmpty()) {
                return new Making(null, "invalid reference format: " + name);
            }
            if (holding(name)) {
                return new Making(null, "the repository " + HOLDING_REPOSITORY + " is where dockgate keeps images held by their owners");
            }
            String o = ownerOf(k.get());
            if (namespace.owner().equals(o)) {
                return new Making(o, null);
            }
            boolean shared = namespace.shared().test(Reference.parse(name).withDefaultTag());
            if (pulled && shared && o == null) {
                return new Making("", null); // a shared name refreshed from its registry stays everyone's
            }
            if (o == null && !exists) {
                return new Making(namespace.owner(), null);
            }
            return new Making(null, "the image name " + Reference.parse(name).withDefaultTag().familiar()
                    + (shared && o == null ? " is shared with you read-only by the authorization policy" : " is in use by another namespace")
                    + ": the upstream engine has one set of image names; choose another name");
        }
    }

    /** For tests and diagnostics: the names a tenant holds. */
    synchronized Map<String, String> names() {
        return new HashMap<>(names);
    }
}
