package io.dockgate.gateway.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.request.DockerJson;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Tenancy over an upstream engine, where the objects live in another daemon: what a caller creates is
 * stamped with its owner label ({@link #OWNER_LABEL}) (containers, volumes, networks, images built or committed); lists, prunes
 * and events under a binding scoped to the caller's own objects carry a label filter the upstream
 * applies; answers that would show another's objects or a right the caller lacks are filtered on their
 * way back (networks: the predefined ones are everyone's; inspect: the environment needs
 * {@code container.inspect.env}). Targets of another owner never get this far: the pipeline answers 404.
 */
public final class Tenancy {
    /**
     * The label that records an upstream object's owner. Not the embedded engine's (io.dockgate.owner): an
     * upstream that is itself a dockgate keeps that one for its own record of who called it (this daemon),
     * refuses it from clients and hides it, so a second dockgate in front could neither set nor read it.
     * Clients may set neither.
     */
    public static final String OWNER_LABEL = "io.dockgate.upstream.owner";

    /** The operations whose query gets the owner's label filter under "own". */
    private static final Set<String> LABEL_FILTERED = Set.of("container.list", "container.prune", "volume.prune", "network.prune");
    /** The lists whose {@code owner=} filter (dockgate's own) becomes the owner label's filter upstream. */
    private static final Set<String> OWNER_FILTERED = Set.of("container.list", "volume.list");
    /** The largest answer read whole to be filtered. */
    private static final int MAX_FILTERED = 64 << 20;

    private final Ownership ownership;
    private final UpstreamImages images;
    private final AnonymousVolumes anonymous;

    Tenancy(Ownership ownership, UpstreamState state) {
        this.ownership = ownership;
        this.images = state.images();
        this.anonymous = state.volumes();
    }

    /** Tenancy over the upstream, with the records of what the upstream cannot label. */
    public static Tenancy over(Upstream upstream, UpstreamState state) {
        return new Tenancy(new Ownership(upstream, state.volumes()), state);
    }

    UpstreamImages images() {
        return images;
    }

    AnonymousVolumes anonymous() {
        return anonymous;
    }

    /** A volume's owner: its label, or the record of the anonymous ones. */
    private String volumeOwner(JsonNode volume) {
        String labelled = ownerOf(volume);
        return labelled != null ? labelled : anonymous.owner(volume.path("Name").asText());
    }

    Ownership ownership() {
        return ownership;
    }

    /** A transformation of a whole 200 answer. */
    public interface ResponseFilter {
        Buffer apply(Buffer body);
    }

    /** The name an object gives a field, found in any case (as the upstream reads it), or the name itself. */
    private static String keyOf(JsonNode object, String name) {
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            String n = it.next();
            if (n.equalsIgnoreCase(name)) {
                return n;
            }
        }
        return name;
    }

    /** The document to forward: the judged one, with the owner label where the operation creates an owned object. */
    JsonNode stamp(ApiRequest request, JsonNode json) {
        String op = request.operation();
        if (!request.descriptor().stampsOwner() && !op.equals("container.commit")) {
            return json;
        }
        ObjectNode copy = ((ObjectNode) json).deepCopy();
        setOwner(copy, request.access().owner());
        return copy;
    }

    /** Sets the owner label in an object's Labels (found in any case, as the upstream reads it). */
    private static void setOwner(ObjectNode object, String owner) {
        String key = keyOf(object, "Labels");
        JsonNode labels = object.get(key);
        ObjectNode l = labels instanceof ObjectNode o ? o : object.putObject(key);
        l.put(OWNER_LABEL, owner);
    }

    /** The query to forward: the decoded parameters, with the owner's filter and the judged target's ID. */
    Map<String, List<String>> query(ApiRequest request) {
        Map<String, List<String>> q = new LinkedHashMap<>();
        for (String name : request.http().params().names()) {
            q.put(name, new ArrayList<>(request.http().params().getAll(name)));
        }
        String op = request.operation();
        var target = request.target();
        if (request.descriptor().target().inQuery() && target != null && target.id().isPresent()) {
            q.put(request.descriptor().target().param(), new ArrayList<>(List.of(target.id().get())));
        }
        if (q.containsKey("filters") && op.equals("image.list")) {
            q.put("filters", new ArrayList<>(List.of(withoutOwner(q.get("filters"))))); // the record's, applied to the answer
        }
        if (q.containsKey("filters") && OWNER_FILTERED.contains(op)) {
            q.put("filters", new ArrayList<>(List.of(ownerAsLabel(q.get("filters")))));
        }
        if (request.access().ownScope() && LABEL_FILTERED.contains(op)) {
            q.put("filters", new ArrayList<>(List.of(withOwnerFilter(q.get("filters"), request.access().owner()))));
        }
        if (op.equals("image.build")) {
            q.put("labels", new ArrayList<>(List.of(withOwnerLabel(q.get("labels"), request.access().owner()))));
        }
        return q;
    }

    /** Docker's filters (either form: {"label":["a=b"]} or {"label":{"a=b":true}}) with the owner's label added. */
    static String withOwnerFilter(List<String> given, String owner) {
        ObjectNode filters;
        try {
            JsonNode parsed = given == null || given.isEmpty() || given.get(0).isBlank() ? null : DockerJson.parse(given.get(0).getBytes(
                    java.nio.charset.StandardCharsets.UTF_8));
            filters = parsed == null ? DockerJson.MAPPER.createObjectNode() : ((ObjectNode) parsed).deepCopy();
        } catch (EngineException e) {
            throw new EngineException(ErrorKind.INVALID_ARGUMENT, "invalid filters: " + e.getMessage());
        }
        String key = keyOf(filters, "label");
        JsonNode label = filters.get(key);
        String term = OWNER_LABEL + "=" + owner;
        if (label instanceof ArrayNode a) {
            a.add(term);
        } else if (label instanceof ObjectNode o) {
            o.put(term, true);
        } else {
            filters.putObject(key).put(term, true);
        }
        return filters.toString();
    }

    /** {@code owner=X} in Docker's filters, as the label filter the upstream knows; one owner at a time. */
    static String ownerAsLabel(List<String> given) {
        if (given == null || given.isEmpty() || given.get(0).isBlank()) {
            return given == null || given.isEmpty() ? "" : given.get(0);
        }
        JsonNode filters = DockerJson.parse(given.get(0).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        if (!filters.has(keyOf(filters, "owner"))) {
            return given.get(0);
        }
        return withOwnerFilter(List.of(withoutOwner(given)), oneOwner(owners(given.get(0))));
    }

    /** The one owner a filter names: upstream mode filters by one at a time. */
    private static String oneOwner(List<String> values) {
        if (values.size() != 1) {
            throw EngineException.invalid("upstream mode filters by one owner at a time (owner=" + String.join(", owner=", values) + ")");
        }
        return values.get(0);
    }

    /** The {@code owner=} values of Docker's filters (dockgate's own), empty when none. */
    static List<String> owners(String given) {
        List<String> values = new ArrayList<>();
        if (given == null || given.isBlank()) {
            return values;
        }
        JsonNode filters = DockerJson.parse(given.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        JsonNode owners = filters.get(keyOf(filters, "owner"));
        if (owners != null && owners.isArray()) {
            owners.forEach(v -> values.add(v.asText()));
        } else if (owners != null) {
            owners.fieldNames().forEachRemaining(values::add);
        }
        return values;
    }

    private static String withoutOwner(List<String> given) {
        if (given == null || given.isEmpty() || given.get(0).isBlank()) {
            return given == null || given.isEmpty() ? "" : given.get(0);
        }
        ObjectNode filters = (ObjectNode) DockerJson.parse(given.get(0).getBytes(java.nio.charset.StandardCharsets.UTF_8)).deepCopy();
        filters.remove(keyOf(filters, "owner"));
        return filters.toString();
    }

    private static String withOwnerLabel(List<String> given, String owner) {
        ObjectNode labels = DockerJson.MAPPER.createObjectNode();
        if (given != null && !given.isEmpty() && !given.get(0).isBlank()) {
            JsonNode parsed = DockerJson.parse(given.get(0).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            labels = ((ObjectNode) parsed).deepCopy();
        }
        labels.put(OWNER_LABEL, owner);
        return labels.toString();
    }

    /**
     * The filter of a 200 answer, or null when it goes back as it came (streamed). The owner label is the
     * daemon's record, as in the embedded mode: it is taken out of every label set shown.
     */
    ResponseFilter responseFilter(ApiRequest request) {
        String op = request.operation();
        var access = request.access();
        String owner = access.owner();
        boolean own = access.ownScope();
        List<java.util.function.Consumer<JsonNode>> edits = new ArrayList<>();
        switch (op) {
            case "container.create" -> edits.add(json -> ownership.created(Ownership.Kind.CONTAINER, json.path("Id").asText(),
                    request.http().getParam("name"), owner));
            case "volume.create" -> edits.add(json -> {
                ownership.created(Ownership.Kind.VOLUME, json.path("Name").asText(), null, owner);
                unlabel(json);
            });
            case "network.create" -> edits.add(json -> ownership.created(Ownership.Kind.NETWORK, json.path("Id").asText(),
                    request.json() == null ? null : DockerJson.text(request.json(), "Name"), owner));
            case "container.inspect" -> {
                edits.add(json -> unlabel(json.path("Config")));
                if (!access.may("container.inspect.env")) {
                    edits.add(Tenancy::redactEnv);
                }
            }
            case "container.list" -> edits.add(json -> json.forEach(Tenancy::unlabel));
            case "image.list" -> {
                List<String> owners = owners(request.http().getParam("filters"));
                UpstreamImages.View view = !own && !owners.isEmpty() // an administrator's look at a tenant's
                        ? images.view(io.dockgate.engine.image.ImageNamespace.of(oneOwner(owners), r -> false))
                        : images.view(access.images());
                if (!view.common()) {
                    edits.add(json -> removeIf(json, i -> !view.imageVisible(i.path("Id").asText(), i.path("RepoTags"))));
                    edits.add(json -> json.forEach(i -> view.trim((ObjectNode) i, "Id")));
                }
                edits.add(json -> json.forEach(Tenancy::unlabel));
            }
            case "image.history" -> {
                UpstreamImages.View view = images.view(access.images());
                if (!view.common()) {
                    edits.add(json -> json.forEach(layer -> {
                        if (layer.path("Tags") instanceof ArrayNode tags && layer instanceof ObjectNode o) {
                            List<String> seen = view.visibleTags(tags);
                            if (seen.isEmpty()) {
                                o.putNull("Tags");
                            } else {
                                seen.forEach(o.putArray("Tags")::add);
                            }
                        }
                    }));
                }
            }
            case "volume.inspect", "network.inspect" -> edits.add(Tenancy::unlabel);
            case "image.inspect" -> {
                UpstreamImages.View view = images.view(access.images());
                edits.add(json -> {
                    view.trim((ObjectNode) json, "Id");
                    unlabel(json.path("Config"));
                    unlabel(json.path("ContainerConfig"));
                });
            }
            case "volume.list" -> {
                if (own) {
                    // labelled ones, and those the upstream made for the caller's containers (recorded here)
                    boolean whole = request.http().getParam("filters") == null || request.http().getParam("filters").isBlank()
                            || request.http().getParam("filters").equals("{}");
                    edits.add(json -> {
                        if (whole) {
                            List<String> names = new ArrayList<>();
                            json.path("Volumes").forEach(v -> names.add(v.path("Name").asText()));
                            anonymous.retain(names);
                        }
                        removeIf(json.path("Volumes"), v -> !owner.equals(volumeOwner(v)));
                    });
                }
                edits.add(json -> json.path("Volumes").forEach(Tenancy::unlabel));
            }
            case "network.list" -> {
                if (own) {
                    edits.add(json -> removeIf(json, n -> !mayUseNetwork(n, owner)));
                }
                edits.add(json -> json.forEach(Tenancy::unlabel));
            }
            case "system.df" -> {
                if (own) {
                    UpstreamImages.View view = images.view(access.images());
                    edits.add(json -> {
                        removeIf(json.path("Containers"), c -> !owner.equals(ownerOf(c)));
                        removeIf(json.path("Volumes"), v -> !owner.equals(volumeOwner(v)));
                        removeIf(json.path("Images"), i -> !view.imageVisible(i.path("Id").asText(), i.path("RepoTags")));
                        json.path("Images").forEach(i -> view.trim((ObjectNode) i, "Id"));
                    });
                }
                edits.add(json -> {
                    json.path("Containers").forEach(Tenancy::unlabel);
                    json.path("Volumes").forEach(Tenancy::unlabel);
                    json.path("Images").forEach(Tenancy::unlabel);
                });
            }
            default -> {
            }
        }
        if (own && op.equals("network.inspect")) {
            // on a predefined (shared) network the containers listed may be anyone's, and the upstream's entries
            // carry no owner: none are shown; on the caller's own network only the caller's can be attached
            edits.add(0, json -> {
                if (!owner.equals(ownerOf(json)) && json.path("Containers") instanceof ObjectNode) {
                    ((ObjectNode) json).putObject("Containers");
                }
            });
        }
        if (edits.isEmpty()) {
            return null;
        }
        return body -> edit(body, json -> edits.forEach(e -> e.accept(json)));
    }

    /**
     * The filter of an error answer, or null: a name conflict names the container holding the name, left
     * out under "own" (as the embedded mode does), since it may be another owner's.
     */
    ResponseFilter errorFilter(ApiRequest request) {
        if (!request.access().ownScope() || !request.operation().equals("container.create")) {
            return null;
        }
        return body -> edit(body, json -> {
            String message = json.path("message").asText("");
            int by = message.indexOf(" by container");
            if (by > 0 && json instanceof ObjectNode o) {
                o.put("message", message.substring(0, by) + ".");
            }
        });
    }

    private static String ownerOf(JsonNode object) {
        return object.path("Labels").path(OWNER_LABEL).asText(null);
    }

    /** Takes the owner label out of an object's Labels. */
    static void unlabel(JsonNode object) {
        if (object.path("Labels") instanceof ObjectNode labels) {
            labels.remove(OWNER_LABEL);
        }
    }

    private static void redactEnv(JsonNode json) {
        JsonNode env = json.path("Config").path("Env");
        if (env instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                String e = a.get(i).asText();
                a.set(i, e.contains("=") ? e.substring(0, e.indexOf('=') + 1) + "<redacted>" : e);
            }
        }
    }

    /**
     * Whether a caller scoped to its own objects sees an event: a container's (and its execs') when the
     * container is the caller's (its labels are among the event's attributes); an image's, as every
     * caller does; a volume's or network's creation and removal when the object is the caller's, a mount or
     * a connection when the container is; nothing of the daemon's or a swarm's.
     */
    Future<Boolean> eventVisible(ApiRequest request, JsonNode event) {
        var access = request.access();
        if (!access.ownScope()) {
            return Future.succeededFuture(true);
        }
        String owner = access.owner();
        String type = event.path("Type").asText(event.path("Type").asText(""));
        JsonNode actor = event.path("Actor");
        JsonNode attributes = actor.path("Attributes");
        String action = event.path("Action").asText("");
        return switch (type) {
            case "container" -> Future.succeededFuture(owner.equals(attributes.path(OWNER_LABEL).asText(null)));
            case "image" -> Future.succeededFuture(imageEventVisible(images.view(access.images()), actor));
            case "volume" -> (attributes.hasNonNull("container")
                    ? ownership.owner(Ownership.Kind.CONTAINER, attributes.path("container").asText())
                    : ownership.owner(Ownership.Kind.VOLUME, actor.path("ID").asText())).map(owner::equals);
            case "network" -> (action.equals("connect") || action.equals("disconnect")
                    ? ownership.owner(Ownership.Kind.CONTAINER, attributes.path("container").asText())
                    : ownership.owner(Ownership.Kind.NETWORK, actor.path("ID").asText())).map(owner::equals);
            default -> Future.succeededFuture(false);
        };
    }

    /**
     * An image's event, seen by a namespace that holds the image or sees the name the event gives (a pull's
     * and a push's name its actor's ID, a tag's its name attribute).
     */
    private static boolean imageEventVisible(UpstreamImages.View view, JsonNode actor) {
        String id = actor.path("ID").asText("");
        String name = actor.path("Attributes").path("name").asText("");
        if (id.startsWith("sha256:")) {
            return view.holds(id) || !name.isEmpty() && !name.startsWith("sha256:") && view.nameVisible(name);
        }
        return view.nameVisible(id);
    }

    /** One event of the stream as the caller sees it: without the owner among its actor's attributes. */
    static Buffer unlabelEvent(JsonNode e) {
        if (e.path("Actor").path("Attributes") instanceof ObjectNode attributes) {
            attributes.remove(OWNER_LABEL);
        }
        try {
            return Buffer.buffer(DockerJson.MAPPER.writeValueAsBytes(e)).appendString("\n");
        } catch (com.fasterxml.jackson.core.JsonProcessingException x) {
            throw new EngineException(ErrorKind.INTERNAL, "cannot serialise an event: " + x.getMessage());
        }
    }

    private static boolean mayUseNetwork(JsonNode n, String owner) {
        String name = n.path("Name").asText();
        return name.equals("bridge") || name.equals("host") || name.equals("none")
                || owner.equals(n.path("Labels").path(OWNER_LABEL).asText(null));
    }

    private static void removeIf(JsonNode array, java.util.function.Predicate<JsonNode> drop) {
        if (array instanceof ArrayNode a) {
            for (int i = a.size() - 1; i >= 0; i--) {
                if (drop.test(a.get(i))) {
                    a.remove(i);
                }
            }
        }
    }

    private static Buffer edit(Buffer body, java.util.function.Consumer<JsonNode> change) {
        if (body.length() > MAX_FILTERED) {
            throw new EngineException(ErrorKind.BAD_GATEWAY, "the upstream's answer is larger than " + MAX_FILTERED + " bytes");
        }
        try {
            JsonNode json = DockerJson.MAPPER.readTree(body.getBytes());
            change.accept(json);
            return Buffer.buffer(DockerJson.MAPPER.writeValueAsBytes(json));
        } catch (java.io.IOException e) {
            throw new EngineException(ErrorKind.BAD_GATEWAY, "the upstream sent invalid JSON: " + e.getMessage());
        }
    }
}
