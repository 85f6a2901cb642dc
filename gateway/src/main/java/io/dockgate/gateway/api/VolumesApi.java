package io.dockgate.gateway.api;

import io.dockgate.gateway.request.DockerJson;
import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.Engine;
import io.dockgate.engine.container.ContainerSpec;
import io.dockgate.engine.volume.Volume;
import io.dockgate.engine.volume.VolumeSpec;
import io.dockgate.engine.volume.VolumeStore;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.http.Blocking;
import io.dockgate.gateway.http.OperationCatalog;
import io.dockgate.gateway.http.Responses;
import io.dockgate.gateway.request.Filters;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Named volumes with the local driver: create, list, inspect, remove, prune. */
public final class VolumesApi {
    private static final Set<String> LIST_FILTERS = Set.of("dangling", "driver", "label", "name", "owner");

    private final Engine engine;
    private final Blocking blocking;

    public VolumesApi(Engine engine, Blocking blocking) {
        this.engine = engine;
        this.blocking = blocking;
    }

    public void register(OperationCatalog catalog) {
        catalog.add(OperationTable.VOLUME_LIST, "GET", "/volumes", this::list)
                .add(OperationTable.VOLUME_CREATE, "POST", "/volumes/create", this::create)
                .add(OperationTable.VOLUME_PRUNE, "POST", "/volumes/prune", this::prune)
                .add(OperationTable.VOLUME_INSPECT, "GET", "/volumes/{name}", this::inspect)
                .add(OperationTable.VOLUME_DELETE, "DELETE", "/volumes/{name}", this::delete);
    }

    private VolumeStore volumes() {
        return engine.volumes();
    }

    static Map<String, Object> json(Volume v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("CreatedAt", v.createdAt());
        m.put("Driver", v.driver());
        m.put("Labels", ContainerSpec.visibleLabels(v.labels()));
        m.put("Mountpoint", v.mountpoint());
        m.put("Name", v.name());
        m.put("Options", v.options());
        m.put("Scope", "local");
        return m;
    }

    /** The volumes part of docker system df (blocking): each volume with its size and number of users. */
    List<Map<String, Object>> diskUsage(io.dockgate.gateway.authz.Access access) throws java.io.IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Volume v : volumes().list()) {
            if (!access.sees(v.labels())) {
                continue;
            }
            Map<String, Object> m = json(v);
            m.put("UsageData", Map.of("Size", volumes().size(v.name()), "RefCount", volumes().usedBy(v.name()).size()));
            out.add(m);
        }
        return out;
    }

    /** A volume create body, translated once into what the engine creates (judged by the policy as such). */
    static VolumeSpec volumeSpec(JsonNode body) {
        return new VolumeSpec(DockerJson.text(body, "Name"), DockerJson.text(body, "Driver"), DockerJson.stringMap(body, "Labels"),
                DockerJson.stringMap(body, "DriverOpts"));
    }

    Future<?> create(ApiRequest request) {
        VolumeSpec spec = request.model(VolumeSpec.class).withLabel(ContainerSpec.OWNER_LABEL, request.access().owner());
        return blocking.run(() -> volumes().create(spec)).compose(v -> Responses.json(request, 201, json(v)));
    }

    private static Map<String, String> orEmpty(Map<String, String> m) {
        return m == null ? Map.of() : m;
    }

    Future<?> inspect(ApiRequest request) {
        String name = request.param("name");
        return blocking.run(() -> volumes().get(name)).compose(v -> Responses.json(request, 200, json(v)));
    }

    Future<?> delete(ApiRequest request) {
        String name = request.param("name");
        boolean force = request.queryBool("force");
        return blocking.run(() -> {
            volumes().remove(name, force);
            return null;
        }).compose(v -> request.response().setStatusCode(204).end());
    }

    Future<?> list(ApiRequest request) {
        Filters filters = Filters.parse(request.query("filters").orElse(null), LIST_FILTERS);
        return blocking.run(() -> {
            List<Map<String, Object>> out = new ArrayList<>();
            for (Volume v : volumes().list()) {
                if (matches(v, filters) && request.access().sees(v.labels())) {
                    out.add(json(v));
                }
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("Volumes", out);
            body.put("Warnings", null);
            return body;
        }).compose(body -> Responses.json(request, 200, body));
    }

    private boolean matches(Volume v, Filters filters) {
        if (filters.has("name") && filters.get("name").stream().noneMatch(n -> v.name().contains(n))) {
            return false;
        }
        if (filters.has("driver") && !filters.get("driver").contains(v.driver())) {
            return false;
        }
        if (filters.has("label") && !Filters.labelsMatch(filters.get("label"), DockerJson.MAPPER.valueToTree(ContainerSpec.visibleLabels(v.labels())))) {
            return false;
        }
        if (filters.has("owner") && !filters.get("owner").contains(v.labels() == null ? "" : v.labels().get(ContainerSpec.OWNER_LABEL))) {
            return false; // dockgate's own filter: who created it
        }
        if (filters.has("dangling")) {
            boolean dangling = volumes().usedBy(v.name()).isEmpty();
            String want = filters.get("dangling").get(0);
            if (!Set.of("true", "1", "false", "0").contains(want)) {
                throw io.dockgate.engine.EngineException.invalid("invalid filter 'dangling=" + want + "'");
            }
            if (dangling != (want.equals("true") || want.equals("1"))) {
                return false;
            }
        }
        return true;
    }

    /**
     * docker volume prune: unused anonymous volumes, or every unused one with the filter all=true. Before
     * API 1.42 every unused volume, named ones too (the default changed in 1.42; the filter does not exist before).
     */
    Future<?> prune(ApiRequest request) {
        boolean before142 = !request.version().atLeast(1, 42);
        Filters filters = Filters.parse(request.query("filters").orElse(null), before142 ? Set.of("label") : Set.of("label", "all"));
        boolean all = before142 || filters.has("all") && Set.of("true", "1").contains(filters.get("all").get(0));
        return blocking.run(() -> {
            List<String> deleted = new ArrayList<>();
            long reclaimed = 0;
            for (Volume v : volumes().list()) {
                if (!all && !v.anonymous() || !volumes().usedBy(v.name()).isEmpty() || !request.access().sees(v.labels())) {
                    continue;
                }
                if (filters.has("label") && !Filters.labelsMatch(filters.get("label"), DockerJson.MAPPER.valueToTree(ContainerSpec.visibleLabels(v.labels())))) {
                    continue;
                }
                long size = volumes().size(v.name());
                volumes().remove(v.name(), false);
                deleted.add(v.name());
                reclaimed += size;
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("VolumesDeleted", deleted.isEmpty() ? null : deleted);
            body.put("SpaceReclaimed", reclaimed);
            return body;
        }).compose(body -> Responses.json(request, 200, body));
    }
}
