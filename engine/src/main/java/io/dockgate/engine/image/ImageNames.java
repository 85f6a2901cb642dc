package io.dockgate.engine.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The image names of every namespace ({@link ImageNamespace}) and who holds each image. A namespace
 * holds an image it loaded, imported, pulled, tagged, built or committed, until it deletes or prunes it
 * (losing its last name leaves it dangling there, as in dockerd). An image nobody holds any more but a
 * container still uses falls to the common namespace, whose prune removes it once unused. An image is
 * stored once whoever holds it; it goes when nobody holds it and nothing uses it.
 *
 * <p>Not thread-safe: the {@link ImageStore}'s lock guards it. Persisted inside refs.json: {@code refs}
 * (the common names, the file's format before tenancy), {@code tenants} and {@code holders}.
 */
final class ImageNames {
    private final Map<String, Map<String, Digest>> byOwner = new TreeMap<>();
    private final Map<Digest, Set<String>> holders = new HashMap<>();

    private Map<String, Digest> names(String owner) {
        return byOwner.computeIfAbsent(owner, k -> new TreeMap<>());
    }

    /** What a name (canonical, with its tag or digest) points at in the namespace, shared common names included. */
    Digest lookup(ImageNamespace ns, Reference ref) {
        Digest id = names(ns.owner()).get(ref.canonical());
        if (id == null && !ns.common() && ns.shared().test(ref)) {
            id = names("").get(ref.canonical());
        }
        return id;
    }

    /** The namespace's own name, if it has it (not a shared one). */
    Digest own(ImageNamespace ns, String key) {
        return names(ns.owner()).get(key);
    }

    /** Points a name of the namespace at an image, which the namespace then holds; the image it pointed at before, if another. */
    Digest put(ImageNamespace ns, String key, Digest id) {
        Digest previous = names(ns.owner()).put(key, id);
        hold(ns, id);
        return previous == null || previous.equals(id) ? null : previous;
    }

    void remove(ImageNamespace ns, String key) {
        names(ns.owner()).remove(key);
    }

    /** The namespace's own names (canonical keys) of an image. */
    List<String> keys(ImageNamespace ns, Digest id) {
        List<String> keys = new ArrayList<>();
        names(ns.owner()).forEach((k, v) -> {
            if (v.equals(id)) {
                keys.add(k);
            }
        });
        return keys;
    }

    /** Every name the namespace sees, key to image: its own, then the shared common ones it does not have. */
    Map<String, Digest> visible(ImageNamespace ns) {
        Map<String, Digest> result = new LinkedHashMap<>(names(ns.owner()));
        if (!ns.common()) {
            names("").forEach((k, v) -> {
                if (!result.containsKey(k) && ns.shared().test(Reference.parse(k))) {
                    result.put(k, v);
                }
            });
        }
        return result;
    }

    /** The names of an image the namespace sees. */
    List<Reference> references(ImageNamespace ns, Digest id) {
        List<Reference> result = new ArrayList<>();
        Map<String, Digest> own = names(ns.owner());
        own.forEach((k, v) -> {
            if (v.equals(id)) {
                result.add(Reference.parse(k));
            }
        });
        if (!ns.common()) {
            names("").forEach((k, v) -> {
                if (v.equals(id) && !own.containsKey(k)) {
                    Reference r = Reference.parse(k);
                    if (ns.shared().test(r)) {
                        result.add(r);
                    }
                }
            });
        }
        return result;
    }

    void hold(ImageNamespace ns, Digest id) {
        holders.computeIfAbsent(id, k -> new TreeSet<>()).add(ns.owner());
    }

    /** The namespace lets go of an image (its names of it go too); true when nobody holds it any more. */
    boolean release(ImageNamespace ns, Digest id) {
        keys(ns, id).forEach(k -> remove(ns, k));
        Set<String> set = holders.get(id);
        if (set != null) {
            set.remove(ns.owner());
            if (set.isEmpty()) {
                holders.remove(id);
            }
        }
        return !holders.containsKey(id);
    }

    /** Whether the namespace holds the image (the common one also holds what nobody holds). */
    boolean holds(ImageNamespace ns, Digest id) {
        Set<String> set = holders.get(id);
        if (ns.common()) {
            return set == null || set.contains("");
        }
        return set != null && set.contains(ns.owner());
    }

    /** Whether the namespace lists the image: held, or named by a common name it is shared. */
    boolean listed(ImageNamespace ns, Digest id) {
        if (holds(ns, id)) {
            return true;
        }
        if (ns.common()) {
            return false;
        }
        for (Map.Entry<String, Digest> e : names("").entrySet()) {
            if (e.getValue().equals(id) && ns.shared().test(Reference.parse(e.getKey()))) {
                return true;
            }
        }
        return false;
    }

    /** Whether the namespace reaches the image by ID: the common one reaches every image, a tenant what it lists. */
    boolean reachable(ImageNamespace ns, Digest id) {
        return ns.common() || listed(ns, id);
    }

    /** Who holds an image ("" for the common namespace); empty when nobody does. */
    Set<String> holders(Digest id) {
        return holders.getOrDefault(id, Set.of());
    }

    /** Whether any namespace has a name for the image. */
    boolean named(Digest id) {
        return byOwner.values().stream().anyMatch(m -> m.containsValue(id));
    }

    /** Every name and hold of an image goes (it is deleted). */
    void forget(Digest id) {
        byOwner.values().forEach(m -> m.values().removeIf(id::equals));
        holders.remove(id);
    }

    /** How many names there are, in every namespace. */
    int size() {
        return byOwner.values().stream().mapToInt(Map::size).sum();
    }

    /** Every name of the common namespace (listings of all references). */
    Set<String> commonKeys() {
        return names("").keySet();
    }

    /**
     * Reads refs.json's names and holds of the images that exist. A file from before tenancy has no
     * {@code holders}: every image was the common namespace's.
     */
    void read(JsonNode n, Set<Digest> existing) {
        n.path("refs").fields().forEachRemaining(e -> keep("", e.getKey(), e.getValue(), existing));
        n.path("tenants").fields().forEachRemaining(t ->
                t.getValue().fields().forEachRemaining(e -> keep(t.getKey(), e.getKey(), e.getValue(), existing)));
        if (n.has("holders")) {
            n.get("holders").fields().forEachRemaining(e -> {
                Digest id = Digest.parse(e.getKey());
                if (existing.contains(id)) {
                    e.getValue().forEach(o -> holders.computeIfAbsent(id, k -> new TreeSet<>()).add(o.asText()));
                }
            });
        } else {
            existing.forEach(id -> holders.computeIfAbsent(id, k -> new TreeSet<>()).add(""));
        }
        // a name implies a hold (a file written by hand, or cut between the two)
        byOwner.forEach((owner, m) -> m.values().forEach(id -> holders.computeIfAbsent(id, k -> new TreeSet<>()).add(owner)));
    }

    private void keep(String owner, String key, JsonNode value, Set<Digest> existing) {
        Digest id = Digest.parse(value.asText());
        if (existing.contains(id)) {
            names(owner).put(key, id);
        }
    }

    void write(ObjectNode n) {
        ObjectNode refs = n.putObject("refs");
        names("").forEach((k, v) -> refs.put(k, v.toString()));
        ObjectNode tenants = n.putObject("tenants");
        byOwner.forEach((owner, m) -> {
            if (!owner.isEmpty() && !m.isEmpty()) {
                ObjectNode t = tenants.putObject(owner);
                m.forEach((k, v) -> t.put(k, v.toString()));
            }
        });
        ObjectNode h = n.putObject("holders");
        Map<String, Set<String>> sorted = new TreeMap<>();
        holders.forEach((id, set) -> sorted.put(id.toString(), set));
        sorted.forEach((id, set) -> {
            var a = h.putArray(id);
            set.forEach(a::add);
        });
    }
}
