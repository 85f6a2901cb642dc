package io.dockgate.gateway.api;

import io.dockgate.engine.Engine;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.container.ContainerRecord;
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

/**
 * The two networks dockgate has: {@code none} (the default: a private network namespace with loopback
 * only) and {@code host}. Listed and inspected as dockerd shows its built-in ones; creating, connecting
 * and removing networks is refused (501): there is no bridge networking.
 */
public final class NetworksApi {
    private static final List<String> BUILT_IN = List.of("none", "host");
    private static final Set<String> LIST_FILTERS = Set.of("name", "id", "driver", "type", "scope", "label", "dangling");

    private final Engine engine;
    private final Blocking blocking;

    public NetworksApi(Engine engine, Blocking blocking) {
        this.engine = engine;
        this.blocking = blocking;
    }

    public void register(OperationCatalog catalog) {
        catalog.add(OperationTable.NETWORK_LIST, "GET", "/networks", this::list)
                .add(OperationTable.NETWORK_INSPECT, "GET", "/networks/{id}", this::inspect)
                .add(OperationTable.NETWORK_CREATE, "POST", "/networks/create", this::unsupported)
                .add(OperationTable.NETWORK_PRUNE, "POST", "/networks/prune", this::prune)
                .add(OperationTable.NETWORK_CONNECT, "POST", "/networks/{id}/connect", this::unsupported)
                .add(OperationTable.NETWORK_DISCONNECT, "POST", "/networks/{id}/disconnect", this::unsupported)
                .add(OperationTable.NETWORK_DELETE, "DELETE", "/networks/{id}", this::delete);
    }

    /** A stable 64-hex ID per built-in network, derived from the engine ID. */
    private String idOf(String name) {
        return io.dockgate.engine.image.Digest.of((engine.id() + "/" + name).getBytes(java.nio.charset.StandardCharsets.UTF_8)).hex();
    }

    private String resolve(String ref) {
        for (String n : BUILT_IN) {
            if (n.equals(ref) || idOf(n).equals(ref) || ref.length() >= 3 && idOf(n).startsWith(ref)) {
                return n;
            }
        }
        throw EngineException.notFound("network " + ref + " not found");
    }

    private Map<String, Object> json(String name, boolean withContainers) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Name", name);
        m.put("Id", idOf(name));
        m.put("Created", "0001-01-01T00:00:00Z");
        m.put("Scope", "local");
        m.put("Driver", name.equals("host") ? "host" : "null");
        m.put("EnableIPv6", false);
        m.put("IPAM", Map.of("Driver", "default", "Options", Map.of(), "Config", List.of()));
        m.put("Internal", false);
        m.put("Attachable", false);
        m.put("Ingress", false);
        m.put("ConfigFrom", Map.of("Network", ""));
        m.put("ConfigOnly", false);
        Map<String, Object> containers = new LinkedHashMap<>();
        if (withContainers) {
            for (ContainerRecord c : engine.containers().list()) {
                if (c.status().state().hasProcess() && name.equals(c.spec().host().networkMode())) {
                    containers.put(c.id(), Map.of("Name", c.name().substring(1), "EndpointID", "", "MacAddress", "",
                            "IPv4Address", "", "IPv6Address", ""));
                }
            }
        }
        m.put("Containers", containers);
        m.put("Options", Map.of());
        m.put("Labels", Map.of());
        return m;
    }

    Future<?> list(ApiRequest request) {
        Filters filters = Filters.parse(request.query("filters").orElse(null), LIST_FILTERS);
        return blocking.run(() -> {
            List<Map<String, Object>> out = new ArrayList<>();
            for (String n : BUILT_IN) {
                if (filters.has("name") && filters.get("name").stream().noneMatch(n::contains)) {
                    continue;
                }
                if (filters.has("id") && filters.get("id").stream().noneMatch(i -> idOf(n).startsWith(i))) {
                    continue;
                }
                if (filters.has("driver") && !filters.get("driver").contains(n.equals("host") ? "host" : "null")) {
                    continue;
                }
                if (filters.has("type") && !filters.get("type").contains("builtin") || filters.has("label")) {
                    continue;
                }
                out.add(json(n, false));
            }
            return out;
        }).compose(body -> Responses.json(request, 200, body));
    }

    Future<?> inspect(ApiRequest request) {
        String id = request.param("id");
        return blocking.run(() -> json(resolve(id), true)).compose(body -> Responses.json(request, 200, body));
    }

    Future<?> delete(ApiRequest request) {
        String n = resolve(request.param("id"));
        throw new EngineException(ErrorKind.PERMISSION_DENIED, n + " is a pre-defined network and cannot be removed");
    }

    Future<?> prune(ApiRequest request) {
        return Responses.json(request, 200, Map.of("NetworksDeleted", List.of()));
    }

    Future<?> unsupported(ApiRequest request) {
        throw new EngineException(ErrorKind.NOT_IMPLEMENTED,
                "dockgate has no network drivers: containers run with network none (the default) or host");
    }
}
