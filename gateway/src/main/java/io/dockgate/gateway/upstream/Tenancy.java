package io.dockgate.gateway.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.gateway.authz.Authorizer;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.request.DockerJson;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Tenancy over an upstream engine, where the objects live in another daemon: what a caller creates is
 * stamped with its owner label (containers, volumes, networks, images built or committed); lists, prunes
 * and events under a binding scoped to the caller's own objects carry a label filter the upstream
 * applies; answers that would show another's objects or a right the caller lacks are filtered on their
 * way back (networks: the predefined ones are everyone's; inspect: the environment needs
 * {@code container.inspect.env}). Targets of another owner never get this far: the pipeline answers 404.
 */
public final class Tenancy {
    /** The operations whose query gets the owner's label filter under "own". */
    private static final Set<String> LABEL_FILTERED = Set.of("container.list", "container.prune", "volume.list",
            "volume.prune", "network.prune", "system.events");
    /** The largest answer read whole to be filtered. */
    private static final int MAX_FILTERED = 64 << 20;

    /** A transformation of a whole 200 answer. */
    public interface ResponseFilter {
        Buffer apply(Buffer body);
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
        String key = "Labels";
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (name.equalsIgnoreCase("Labels")) {
                key = name;
            }
        }
        JsonNode labels = object.get(key);
        ObjectNode l = labels instanceof ObjectNode o ? o : object.putObject(key);
        l.put(Authorizer.OWNER_LABEL, owner);
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
        String key = "label";
        for (Iterator<String> it = filters.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (name.equalsIgnoreCase("label")) {
                key = name;
            }
        }
        JsonNode label = filters.get(key);
        String term = Authorizer.OWNER_LABEL + "=" + owner;
        if (label instanceof ArrayNode a) {
            a.add(term);
        } else if (label instanceof ObjectNode o) {
            o.put(term, true);
        } else {
            filters.putObject(key).put(term, true);
        }
        return filters.toString();
    }

    private static String withOwnerLabel(List<String> given, String owner) {
        ObjectNode labels = DockerJson.MAPPER.createObjectNode();
        if (given != null && !given.isEmpty() && !given.get(0).isBlank()) {
            JsonNode parsed = DockerJson.parse(given.get(0).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            labels = ((ObjectNode) parsed).deepCopy();
        }
        labels.put(Authorizer.OWNER_LABEL, owner);
        return labels.toString();
    }

    /** The filter of a 200 answer, or null when it goes back as it came (streamed). */
    ResponseFilter responseFilter(ApiRequest request) {
        String op = request.operation();
        var access = request.access();
        if (op.equals("container.inspect") && !access.may("container.inspect.env")) {
            return body -> edit(body, json -> {
                JsonNode env = json.path("Config").path("Env");
                if (env instanceof ArrayNode a) {
                    for (int i = 0; i < a.size(); i++) {
                        String e = a.get(i).asText();
                        a.set(i, e.contains("=") ? e.substring(0, e.indexOf('=') + 1) + "<redacted>" : e);
                    }
                }
            });
        }
        if (!access.ownScope()) {
            return null;
        }
        String owner = access.owner();
        return switch (op) {
            case "network.list" -> body -> edit(body, json -> removeIf(json, n -> !mayUseNetwork(n, owner)));
            case "system.df" -> body -> edit(body, json -> {
                removeIf(json.path("Containers"), c -> !owner.equals(c.path("Labels").path(Authorizer.OWNER_LABEL).asText(null)));
                removeIf(json.path("Volumes"), v -> !owner.equals(v.path("Labels").path(Authorizer.OWNER_LABEL).asText(null)));
            });
            case "network.inspect" -> body -> edit(body, json -> {
                // on a predefined (shared) network the containers listed may be anyone's, and the upstream's entries
                // carry no owner: none are shown; on the caller's own network only the caller's can be attached
                if (!owner.equals(json.path("Labels").path(Authorizer.OWNER_LABEL).asText(null))
                        && json.path("Containers") instanceof ObjectNode) {
                    ((ObjectNode) json).putObject("Containers");
                }
            });
            default -> null;
        };
    }

    private static boolean mayUseNetwork(JsonNode n, String owner) {
        String name = n.path("Name").asText();
        return name.equals("bridge") || name.equals("host") || name.equals("none")
                || owner.equals(n.path("Labels").path(Authorizer.OWNER_LABEL).asText(null));
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
