package io.dockgate.gateway.api;

import io.dockgate.engine.container.ContainerRecord;
import io.dockgate.engine.container.ContainerSpec;
import io.dockgate.engine.net.Endpoint;
import io.dockgate.engine.net.NetworkRecord;
import io.dockgate.engine.net.NetworkState;
import io.dockgate.engine.net.Networks;
import io.dockgate.engine.net.PortBinding;
import io.dockgate.engine.net.PortMapping;
import io.dockgate.gateway.request.ApiVersion;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A container's networking in Docker's shapes: inspect's NetworkSettings, HostConfig.PortBindings and
 * Config.ExposedPorts, the list's Ports, and a network's Containers; what clients read (docker port,
 * ps's PORTS column, Testcontainers' mapped ports, compose's aliases).
 */
final class ContainerNetworks {
    private ContainerNetworks() {
    }

    /** HostConfig.PortBindings as given ({"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}), null when none. */
    static Map<String, Object> portBindings(ContainerSpec spec) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (PortBinding b : spec.netOrNone().portsOrEmpty()) {
            @SuppressWarnings("unchecked")
            List<Object> list = (List<Object>) out.computeIfAbsent(b.containerPort() + "/" + b.protocol(), k -> new ArrayList<>());
            list.add(Map.of("HostIp", b.hostIp(), "HostPort", b.hostPort()));
        }
        return out.isEmpty() ? null : out;
    }

    /** Config.ExposedPorts ({"80/tcp": {}}), null when none. */
    static Map<String, Object> exposedPorts(ContainerSpec spec) {
        Map<String, Object> out = new LinkedHashMap<>();
        spec.netOrNone().exposedOrEmpty().forEach(p -> out.put(p, Map.of()));
        spec.netOrNone().portsOrEmpty().forEach(b -> out.putIfAbsent(b.containerPort() + "/" + b.protocol(), Map.of()));
        return out.isEmpty() ? null : out;
    }

    /** NetworkSettings.Ports: every exposed port, with its host bindings while running (null when not published). */
    static Map<String, Object> ports(ContainerRecord c) {
        Map<String, Object> out = new LinkedHashMap<>();
        NetworkState net = c.status().network();
        if (net == null) {
            return out;
        }
        Map<String, Object> exposed = exposedPorts(c.spec());
        if (exposed != null) {
            exposed.keySet().forEach(p -> out.put(p, null));
        }
        for (PortMapping m : net.portsOrEmpty()) {
            @SuppressWarnings("unchecked")
            List<Object> list = (List<Object>) out.get(m.containerPort() + "/" + m.protocol());
            if (list == null) {
                list = new ArrayList<>();
                out.put(m.containerPort() + "/" + m.protocol(), list);
            }
            list.add(Map.of("HostIp", m.hostIp(), "HostPort", String.valueOf(m.hostPort())));
        }
        return out;
    }

    /** The list's Ports: published ports with their host side, exposed ones without. */
    static List<Map<String, Object>> listPorts(ContainerRecord c) {
        List<Map<String, Object>> out = new ArrayList<>();
        NetworkState net = c.status().network();
        if (net == null) {
            return out;
        }
        for (PortMapping m : net.portsOrEmpty()) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("IP", m.hostIp());
            p.put("PrivatePort", m.containerPort());
            p.put("PublicPort", m.hostPort());
            p.put("Type", m.protocol());
            out.add(p);
        }
        Map<String, Object> exposed = exposedPorts(c.spec());
        if (exposed != null) {
            for (String e : exposed.keySet()) {
                String[] pp = e.split("/");
                int port = Integer.parseInt(pp[0]);
                if (net.portsOrEmpty().stream().noneMatch(m -> m.containerPort() == port && m.protocol().equals(pp[1]))) {
                    out.add(Map.of("PrivatePort", port, "Type", pp[1]));
                }
            }
        }
        return out;
    }

    /**
     * HostConfig.Links of a container on the default bridge: "/child:/parent/alias" with today's names
     * (links name the child by ID); null when none, or when they are the network's (a user-defined one).
     */
    static List<String> hostConfigLinks(ContainerRecord c, io.dockgate.engine.container.ContainerStore store) {
        List<ContainerSpec.Link> links = c.spec().netOrNone().linksOrEmpty();
        if (links.isEmpty() || !"bridge".equals(c.spec().host().networkMode())) {
            return null;
        }
        return rendered(c, store, true);
    }

    private static List<String> rendered(ContainerRecord c, io.dockgate.engine.container.ContainerStore store, boolean hostConfigForm) {
        List<String> out = new ArrayList<>();
        for (ContainerSpec.Link l : c.spec().netOrNone().linksOrEmpty()) {
            ContainerRecord child = store.get(l.container());
            if (child != null) {
                out.add(hostConfigForm ? child.name() + ":" + c.name() + "/" + l.alias() : child.name().substring(1) + ":" + l.alias());
            }
        }
        return out.isEmpty() ? null : out;
    }

    /** One network's entry in NetworkSettings.Networks (empty addresses while stopped, as dockerd). */
    private static Map<String, Object> endpoint(ContainerRecord c, String name, Endpoint e, NetworkRecord n, ApiVersion version,
                                                boolean full, io.dockgate.engine.container.ContainerStore store) {
        Map<String, Object> m = new LinkedHashMap<>();
        io.dockgate.engine.net.EndpointRequest request = null;
        for (io.dockgate.engine.net.EndpointRequest r : c.spec().netOrNone().endpointsOrEmpty()) {
            boolean primary = name.equals(c.spec().host().networkMode()) || n != null && n.name().equals(c.spec().host().networkMode());
            if (r.network().equals(name) || n != null && (r.network().equals(n.name()) || r.network().equals(n.id()))
                    || primary && r.network().equals("default")) {
                request = r;
            }
        }
        if (full) {
            m.put("IPAMConfig", request != null && request.ipv4() != null && !request.ipv4().isEmpty()
                    ? Map.of("IPv4Address", request.ipv4()) : null);
            boolean mine = n != null && !n.isDefault() && (name.equals(c.spec().host().networkMode()) || n.name().equals(c.spec().host().networkMode())
                    || n.id().equals(c.spec().host().networkMode()));
            m.put("Links", mine ? rendered(c, store, false) : null); // links on a user-defined network are its endpoint's
            List<String> aliases = new ArrayList<>(request == null ? List.of() : request.aliasesOrEmpty());
            boolean user = n != null && !n.isDefault();
            if (user && version.compareTo(ApiVersion.parse("1.45")) < 0) {
                aliases.add(c.id().substring(0, 12));
            }
            m.put("Aliases", aliases.isEmpty() ? null : aliases);
        }
        m.put("NetworkID", n == null ? "" : n.id());
        m.put("EndpointID", e == null ? "" : e.endpointId());
        m.put("Gateway", e == null ? "" : e.gateway());
        m.put("IPAddress", e == null ? "" : e.ip());
        m.put("IPPrefixLen", e == null ? 0 : e.prefix());
        m.put("IPv6Gateway", "");
        m.put("GlobalIPv6Address", "");
        m.put("GlobalIPv6PrefixLen", 0);
        m.put("MacAddress", e == null ? "" : e.mac());
        if (full) {
            m.put("DriverOpts", null);
            if (version.compareTo(ApiVersion.parse("1.44")) >= 0 && n != null && !n.isDefault()) {
                List<String> names = new ArrayList<>();
                names.add(c.name().substring(1));
                if (request != null) {
                    names.addAll(request.aliasesOrEmpty());
                }
                names.add(c.id().substring(0, 12));
                m.put("DNSNames", names);
            } else if (version.compareTo(ApiVersion.parse("1.44")) >= 0) {
                m.put("DNSNames", null);
            }
        }
        return m;
    }

    /** NetworkSettings.Networks: the container's network, by name. */
    static Map<String, Object> networks(ContainerRecord c, Networks networks, ApiVersion version, boolean full,
                                        io.dockgate.engine.container.ContainerStore store) {
        Map<String, Object> out = new LinkedHashMap<>();
        String mode = c.spec().host().networkMode();
        if (mode != null && mode.startsWith("container:")) {
            return out; // in another container's namespace: no network of its own (as dockerd)
        }
        NetworkState net = c.status().network();
        if (net != null && !net.endpointsOrEmpty().isEmpty()) {
            for (Endpoint e : net.endpointsOrEmpty()) {
                out.put(e.network(), endpoint(c, e.network(), e, networks == null ? null : networks.find(e.networkId()), version, full, store));
            }
            return out;
        }
        NetworkRecord n = networks == null || mode == null ? null : networks.find(mode);
        if (!c.spec().netOrNone().modeDisconnected()) {
            out.put(n != null ? n.name() : mode, endpoint(c, mode, null, n, version, full, store));
        }
        for (io.dockgate.engine.net.EndpointRequest r : c.spec().netOrNone().endpointsOrEmpty()) {
            NetworkRecord other = networks == null || r.network().equals("default") ? null : networks.find(r.network());
            if (other != null && (n == null || !other.id().equals(n.id()))) {
                out.put(other.name(), endpoint(c, other.name(), null, other, version, full, store)); // connected since, joined at start
            }
        }
        return out;
    }

    /** Inspect's NetworkSettings. */
    static Map<String, Object> settings(ContainerRecord c, Networks networks, ApiVersion version,
                                        io.dockgate.engine.container.ContainerStore store) {
        Map<String, Object> m = new LinkedHashMap<>();
        NetworkState net = c.status().network();
        m.put("Bridge", "");
        m.put("SandboxID", net == null ? "" : c.id());
        m.put("HairpinMode", false);
        m.put("LinkLocalIPv6Address", "");
        m.put("LinkLocalIPv6PrefixLen", 0);
        m.put("Ports", ports(c));
        m.put("SandboxKey", net == null ? "" : net.sandbox());
        m.put("SecondaryIPAddresses", null);
        m.put("SecondaryIPv6Addresses", null);
        Endpoint primary = null;
        if (net != null) {
            for (Endpoint e : net.endpointsOrEmpty()) {
                NetworkRecord n = networks.find(e.networkId());
                if (n != null && n.isDefault()) {
                    primary = e; // the top-level fields describe the default bridge only, as dockerd's
                }
            }
        }
        m.put("EndpointID", primary == null ? "" : primary.endpointId());
        m.put("Gateway", primary == null ? "" : primary.gateway());
        m.put("GlobalIPv6Address", "");
        m.put("GlobalIPv6PrefixLen", 0);
        m.put("IPAddress", primary == null ? "" : primary.ip());
        m.put("IPPrefixLen", primary == null ? 0 : primary.prefix());
        m.put("IPv6Gateway", "");
        m.put("MacAddress", primary == null ? "" : primary.mac());
        m.put("Networks", networks(c, networks, version, true, store));
        return m;
    }

    /** A network's Containers in network inspect: the running containers on it. */
    static Map<String, Object> members(NetworkRecord n, List<ContainerRecord> containers) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (ContainerRecord c : containers) {
            NetworkState net = c.status().network();
            if (net == null) {
                continue;
            }
            for (Endpoint e : net.endpointsOrEmpty()) {
                if (e.networkId().equals(n.id())) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("Name", c.name().substring(1));
                    m.put("EndpointID", e.endpointId());
                    m.put("MacAddress", e.mac());
                    m.put("IPv4Address", e.ip() + "/" + e.prefix());
                    m.put("IPv6Address", "");
                    out.put(c.id(), m);
                }
            }
        }
        return out;
    }
}
