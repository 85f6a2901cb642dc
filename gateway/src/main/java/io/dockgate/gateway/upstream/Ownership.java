package io.dockgate.gateway.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.Future;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Who owns the upstream's objects, as far as events need to know after the objects are gone: the
 * containers, volumes and networks created through this daemon are remembered when their creation
 * succeeds (a bounded memory: the oldest are forgotten first); others are asked of the upstream (their
 * owner label). An object that can be neither remembered nor found has no owner: its events are shown to
 * no one scoped to their own objects.
 */
final class Ownership {
    /** Objects remembered per kind. */
    private static final int REMEMBERED = 50_000;

    enum Kind { CONTAINER, VOLUME, NETWORK }

    private final Upstream upstream;
    private final AnonymousVolumes anonymous;
    private final Map<String, String> owners = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > REMEMBERED * Kind.values().length;
        }
    };

    Ownership(Upstream upstream, AnonymousVolumes anonymous) {
        this.upstream = upstream;
        this.anonymous = anonymous;
    }

    private static String key(Kind kind, String ref) {
        return kind + ":" + ref;
    }

    /** Remembers an object created for an owner (its ID, and its name where it has one). */
    synchronized void created(Kind kind, String id, String name, String owner) {
        if (id != null && !id.isEmpty()) {
            owners.put(key(kind, id), owner);
        }
        if (name != null && !name.isEmpty()) {
            owners.put(key(kind, name), owner);
        }
    }

    private synchronized String remembered(Kind kind, String ref) {
        return owners.get(key(kind, ref));
    }

    /** The owner of an object ("" when none or unknown). */
    Future<String> owner(Kind kind, String ref) {
        if (ref == null || ref.isEmpty()) {
            return Future.succeededFuture("");
        }
        String known = remembered(kind, ref);
        if (known != null) {
            return Future.succeededFuture(known);
        }
        String uri = switch (kind) {
            case CONTAINER -> "/containers/" + Forwarder.encode(ref) + "/json";
            case VOLUME -> "/volumes/" + Forwarder.encode(ref);
            case NETWORK -> "/networks/" + Forwarder.encode(ref);
        };
        return upstream.getJson(uri).map(json -> {
            if (json == null) {
                return "";
            }
            JsonNode labels = kind == Kind.CONTAINER ? json.path("Config").path("Labels") : json.path("Labels");
            String owner = labels.path(Tenancy.OWNER_LABEL).asText("");
            if (owner.isEmpty() && kind == Kind.VOLUME) {
                String recorded = anonymous.owner(ref);
                owner = recorded == null ? "" : recorded;
            }
            created(kind, ref, null, owner);
            return owner;
        }).otherwise("");
    }
}
