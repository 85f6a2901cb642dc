package io.dockgate.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.Engine;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.container.ContainerSpec;
import io.dockgate.engine.net.NetworkRecord;
import io.dockgate.engine.net.NetworkSpec;
import io.dockgate.engine.net.Networks;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.http.Blocking;
import io.dockgate.gateway.http.OperationCatalog;
import io.dockgate.gateway.http.Responses;
import io.dockgate.gateway.request.DockerJson;
import io.dockgate.gateway.request.Filters;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Networks: the bridge networks of the engine (the predefined {@code bridge}, when the daemon has one,
 * and user-defined ones) and the pseudo networks {@code host} and {@code none}, in dockerd's shapes.
 */
public final class NetworksApi {
    private static final List<String> PSEUDO = List.of("none", "host");
    private static final Set<String> LIST_FILTERS = Set.of("name", "id", "driver", "type", "scope", "label", "dangling");
    private static final Set<String> PRUNE_FILTERS = Set.of("label", "label!", "until");

    private final Engine engine;
    private final Blocking blocking;

    public NetworksApi(Engine engine, Blocking blocking) {
        this.engine = engine;
        this.blocking = blocking;
    }

    public void register(OperationCatalog catalog) {
        catalog.add(OperationTable.NETWORK_LIST, "GET", "/networks", this::list)
                .add(OperationTable.NETWORK_INSPECT, "GET", "/networks/{id}", this::inspect)
                .add(OperationTable.NETWORK_CREATE, "POST", "/networks/create", this::create)
                .add(OperationTable.NETWORK_PRUNE, "POST", "/networks/prune", this::prune)
                .add(OperationTable.NETWORK_CONNECT, "POST", "/networks/{id}/connect", this::connect)
                .add(OperationTable.NETWORK_DISCONNECT, "POST", "/networks/{id}/disconnect", this::disconnect)
                .add(OperationTable.NETWORK_DELETE, "DELETE", "/networks/{id}", this::delete);
    }

    private Networks networks() {
        return engine.networks();
    }

    // ------------------------------------------------------------------ the body

    /**
     * A network create body, translated once into what the engine creates (judged by the policy as such).
     * What dockgate does not do is refused by name: IPv6, swarm scopes and config networks, other IPAM
     * drivers, several IPAM configurations, auxiliary addresses.
     */
    static NetworkSpec networkSpec(JsonNode body) {
        for (String f : List.of("Ingress", "EnableIPv6", "ConfigOnly")) {
            if (DockerJson.bool(body, f)) {
                throw EngineException.invalid(f + " networks are not supported by dockgate");
            }
        }
        JsonNode from = DockerJson.field(body, "ConfigFrom");
        if (from != null && DockerJson.text(from, "Network") != null && !DockerJson.text(from, "Network").isEmpty()) {
            throw EngineException.invalid("ConfigFrom is not supported by dockgate");
        }
        String scope = DockerJson.text(body, "Scope");
        if (scope != null && !scope.isEmpty() && !scope.equals("local")) {
            throw EngineException.invalid("scope " + scope + " is not supported by dockgate (local networks only)");
        }
        String subnet = null;
        String gateway = null;
        String range = null;
        JsonNode ipam = DockerJson.field(body, "IPAM");
        if (ipam != null) {
            String driver = DockerJson.text(ipam, "Driver");
            if (driver != null && !driver.isEmpty() && !driver.equals("default")) {
                throw EngineException.notFound("plugin \"" + driver + "\" not found: dockgate has the default IPAM driver only");
            }
            Map<String, String> options = DockerJson.stringMap(ipam, "Options");
            if (options != null && !options.isEmpty()) {
                throw EngineException.invalid("IPAM options are not supported by dockgate");
            }
            JsonNode configs = DockerJson.field(ipam, "Config");
            if (configs != null && configs.isArray() && configs.size() > 0) {
                if (configs.size() > 1) {
                    throw EngineException.invalid("one IPAM configuration per network (IPv4) is supported by dockgate");
                }
                JsonNode c = configs.get(0);
                Map<String, String> aux = DockerJson.stringMap(c, "AuxiliaryAddresses");
                if (aux != null && !aux.isEmpty()) {
                    throw EngineException.invalid("IPAM AuxiliaryAddresses are not supported by dockgate");
                }
                subnet = DockerJson.text(c, "Subnet");
                gateway = DockerJson.text(c, "Gateway");
                range = DockerJson.text(c, "IPRange");
                for (String v : new String[] {subnet, range}) {
                    if (v != null && v.contains(":")) {
                        throw EngineException.invalid("IPv6 subnets are not supported by dockgate: " + v);
                    }
                }
            }
        }
        return new NetworkSpec(DockerJson.text(body, "Name"), DockerJson.text(body, "Driver"), subnet, gateway, range,
                DockerJson.bool(body, "Internal"), DockerJson.bool(body, "Attachable"), DockerJson.stringMap(body, "Labels"),
                DockerJson.stringMap(body, "Options"), DockerJson.bool(body, "CheckDuplicate"));
    }

    /** A network connect body: the container and its endpoint's settings (aliases, IPAMConfig.IPv4Address, MacAddress). */
    static io.dockgate.engine.net.NetworkConnection connection(JsonNode body) {
        String container = DockerJson.text(body, "Container");
        if (container == null || container.isEmpty()) {
            throw EngineException.invalid("a container is required (Container)");
        }
        JsonNode ep = DockerJson.field(body, "EndpointConfig");
        String ipv4 = null;
        JsonNode ipam = DockerJson.field(ep, "IPAMConfig");
        if (ipam != null) {
            ipv4 = DockerJson.text(ipam, "IPv4Address");
            for (String f : List.of("IPv6Address", "LinkLocalIPs")) {
                JsonNode v = DockerJson.field(ipam, f);
                if (v != null && !(v.isTextual() && v.asText().isEmpty()) && !(v.isArray() && v.isEmpty())) {
                    throw EngineException.invalid("EndpointConfig.IPAMConfig." + f + " is not supported by dockgate");
                }
            }
        }
        for (String f : List.of("Links", "DriverOpts")) {
            JsonNode v = DockerJson.field(ep, f);
            if (v != null && v.size() > 0) {
                throw EngineException.invalid("EndpointConfig." + f + " is not supported by dockgate yet");
            }
        }
        List<String> aliases = DockerJson.strings(ep, "Aliases");
        return new io.dockgate.engine.net.NetworkConnection(container, new io.dockgate.engine.net.EndpointRequest("",
                aliases == null ? List.of() : aliases, ipv4, DockerJson.text(ep, "MacAddress")), DockerJson.bool(body, "Force"));
    }

    // ------------------------------------------------------------------ shapes

    private String pseudoId(String name) {
        return io.dockgate.engine.image.Digest.of((engine.id() + "/" + name).getBytes(java.nio.charset.StandardCharsets.UTF_8)).hex();
    }

    private Map<String, Object> pseudo(String name) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Name", name);
        m.put("Id", pseudoId(name));
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
        Map<String, Object> members = new LinkedHashMap<>();
        if (engine.containers() != null) {
            for (var c : engine.containers().list()) {
                if (c.status().state().hasProcess() && name.equals(c.spec().host().networkMode())) {
                    members.put(c.id(), Map.of("Name", c.name().substring(1), "EndpointID", "", "MacAddress", "", "IPv4Address", "",
                            "IPv6Address", ""));
                }
            }
        }
        m.put("Containers", members);
        m.put("Options", Map.of());
        m.put("Labels", Map.of());
        return m;
    }

    private Map<String, Object> json(NetworkRecord n) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Name", n.name());
        m.put("Id", n.id());
        m.put("Created", n.created());
        m.put("Scope", "local");
        m.put("Driver", n.driver());
        m.put("EnableIPv6", false);
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("Subnet", n.subnet());
        if (n.ipRange() != null) {
            config.put("IPRange", n.ipRange());
        }
        config.put("Gateway", n.gateway());
        Map<String, Object> ipam = new LinkedHashMap<>();
        ipam.put("Driver", "default");
        ipam.put("Options", n.isDefault() ? null : Map.of());
        ipam.put("Config", List.of(config));
        m.put("IPAM", ipam);
        m.put("Internal", n.internal());
        m.put("Attachable", n.attachable());
        m.put("Ingress", false);
        m.put("ConfigFrom", Map.of("Network", ""));
        m.put("ConfigOnly", false);
        m.put("Containers", engine.containers() == null ? Map.of() : ContainerNetworks.members(n, engine.containers().list()));
        m.put("Options", n.optionsOrEmpty());
        m.put("Labels", ContainerSpec.visibleLabels(n.labelsOrEmpty()));
        return m;
    }

    /** Whether the caller sees this network: the predefined ones are everyone's, the others their owner's. */
    private static boolean visible(ApiRequest request, NetworkRecord n) {
        return n.isDefault() || request.access().sees(n.labelsOrEmpty());
    }

    // ------------------------------------------------------------------ handlers

    Future<?> list(ApiRequest request) {
        Filters filters = Filters.parse(request.query("filters").orElse(null), LIST_FILTERS);
        return blocking.run(() -> {
            List<Map<String, Object>> out = new ArrayList<>();
            for (NetworkRecord n : networks().list()) {
                if (visible(request, n) && matches(filters, n.name(), n.id(), n.driver(), n.isDefault(), n.labelsOrEmpty())) {
                    out.add(json(n));
                }
            }
            for (String p : PSEUDO) {
                if (matches(filters, p, pseudoId(p), p.equals("host") ? "host" : "null", true, Map.of())) {
                    out.add(pseudo(p));
                }
            }
            return out;
        }).compose(body -> Responses.json(request, 200, body));
    }

    private static boolean matches(Filters filters, String name, String id, String driver, boolean builtin, Map<String, String> labels) {
        if (filters.has("name") && filters.get("name").stream().noneMatch(name::contains)) {
            return false;
        }
        if (filters.has("id") && filters.get("id").stream().noneMatch(id::startsWith)) {
            return false;
        }
        if (filters.has("driver") && !filters.get("driver").contains(driver)) {
            return false;
        }
        if (filters.has("type") && !filters.get("type").contains(builtin ? "builtin" : "custom")) {
            return false;
        }
        if (filters.has("scope") && !filters.get("scope").contains("local")) {
            return false;
        }
        if (filters.has("label")) {
            for (String l : filters.get("label")) {
                int eq = l.indexOf('=');
                String key = eq < 0 ? l : l.substring(0, eq);
                if (!labels.containsKey(key) || eq >= 0 && !l.substring(eq + 1).equals(labels.get(key))) {
                    return false;
                }
            }
        }
        return true;
    }

    Future<?> inspect(ApiRequest request) {
        String ref = request.param("id");
        return blocking.run(() -> {
            for (String p : PSEUDO) {
                if (p.equals(ref) || pseudoId(p).equals(ref) || ref.length() >= 3 && pseudoId(p).startsWith(ref)) {
                    return pseudo(p);
                }
            }
            NetworkRecord n = networks().get(ref);
            if (!visible(request, n)) {
                throw EngineException.notFound("network " + ref + " not found");
            }
            return json(n);
        }).compose(body -> Responses.json(request, 200, body));
    }

    Future<?> create(ApiRequest request) {
        NetworkSpec spec = request.model(NetworkSpec.class).withLabel(ContainerSpec.OWNER_LABEL, request.access().owner());
        return blocking.run(() -> networks().create(spec))
                .compose(n -> Responses.json(request, 201, Map.of("Id", n.id(), "Warning", "")));
    }

    Future<?> delete(ApiRequest request) {
        String ref = request.param("id");
        if (PSEUDO.contains(ref)) {
            throw new EngineException(ErrorKind.PERMISSION_DENIED, ref + " is a pre-defined network and cannot be removed");
        }
        return blocking.run(() -> {
            networks().remove(ref);
            return null;
        }).compose(v -> request.response().setStatusCode(204).end());
    }

    Future<?> prune(ApiRequest request) {
        Filters filters = Filters.parse(request.query("filters").orElse(null), PRUNE_FILTERS);
        return blocking.run(() -> {
            List<String> deleted = new ArrayList<>();
            for (NetworkRecord n : networks().list()) {
                if (n.isDefault() || !request.access().sees(n.labelsOrEmpty()) || !pruneMatches(filters, n)) {
                    continue;
                }
                try {
                    networks().remove(n.id());
                    deleted.add(n.name());
                } catch (EngineException e) {
                    // in use: kept, as dockerd does
                }
            }
            return deleted;
        }).compose(d -> Responses.json(request, 200, Map.of("NetworksDeleted", d)));
    }

    private static boolean pruneMatches(Filters filters, NetworkRecord n) {
        for (String l : filters.has("label") ? filters.get("label") : List.<String>of()) {
            int eq = l.indexOf('=');
            String key = eq < 0 ? l : l.substring(0, eq);
            if (!n.labelsOrEmpty().containsKey(key) || eq >= 0 && !l.substring(eq + 1).equals(n.labelsOrEmpty().get(key))) {
                return false;
            }
        }
        for (String l : filters.has("label!") ? filters.get("label!") : List.<String>of()) {
            int eq = l.indexOf('=');
            String key = eq < 0 ? l : l.substring(0, eq);
            if (n.labelsOrEmpty().containsKey(key) && (eq < 0 || l.substring(eq + 1).equals(n.labelsOrEmpty().get(key)))) {
                return false;
            }
        }
        if (filters.has("until")) {
            java.time.Instant until = ImagesApi.parseUntil(filters.get("until").get(0));
            if (!java.time.Instant.parse(n.created()).isBefore(until)) {
                return false;
            }
        }
        return true;
    }

    Future<?> connect(ApiRequest request) {
        String ref = request.param("id");
        io.dockgate.engine.net.NetworkConnection c = request.model(io.dockgate.engine.net.NetworkConnection.class);
        return blocking.run(() -> {
            visibleContainer(request, c.container());
            engine.containers().connect(c.container(), ref, c.endpoint());
            return null;
        }).compose(v -> request.response().setStatusCode(200).end());
    }

    Future<?> disconnect(ApiRequest request) {
        String ref = request.param("id");
        io.dockgate.engine.net.NetworkConnection c = request.model(io.dockgate.engine.net.NetworkConnection.class);
        return blocking.run(() -> {
            visibleContainer(request, c.container());
            engine.containers().disconnect(c.container(), ref);
            return null;
        }).compose(v -> request.response().setStatusCode(200).end());
    }

    /** Another owner's container answers as a missing one. */
    private void visibleContainer(ApiRequest request, String ref) {
        var c = engine.containers().inspect(ref);
        if (!request.access().sees(c.spec().labels())) {
            throw EngineException.notFound("No such container: " + ref);
        }
    }
}
