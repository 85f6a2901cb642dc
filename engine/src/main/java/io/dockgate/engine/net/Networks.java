package io.dockgate.engine.net;

import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.events.Events;
import io.dockgate.engine.sys.Netlink;
import io.dockgate.engine.sys.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bridge networks, as dockerd's bridge driver makes them: the predefined {@code bridge} network (Linux
 * bridge {@code dockgate0}) and user-defined ones ({@code br-<12 hex>}), each a Linux bridge holding its
 * gateway address, with the daemon's firewall chains for masquerading, isolation and published ports.
 * Records persist; bridges and rules are (re)made from them at start. {@code host} and {@code none} are
 * pseudo networks, as in Docker. Blocking; thread-safe.
 */
public final class Networks {
    private static final Logger LOG = LoggerFactory.getLogger(Networks.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]*");
    /** Bridge driver options dockgate honours; others are refused by name. */
    static final Set<String> OPTIONS = Set.of("com.docker.network.bridge.name", "com.docker.network.bridge.enable_ip_masquerade",
            "com.docker.network.bridge.enable_icc", "com.docker.network.bridge.host_binding_ipv4", "com.docker.network.driver.mtu");
    public static final String DEFAULT = "bridge";
    public static final String OWNER_LABEL = "io.dockgate.owner";

    /**
     * How the daemon's networking is set up: the default bridge's name ("none": no bridge network at all,
     * containers default to network none as before), its address ({@code --bip}, gateway/prefix, or null
     * for the first free pool), and whether the daemon writes iptables rules.
     */
    public record Options(String bridge, String bip, boolean iptables, List<String> dns) {
        public static final Options DEFAULT = new Options("dockgate0", null, true, List.of());

        public Options(String bridge, String bip, boolean iptables) {
            this(bridge, bip, iptables, List.of());
        }

        /** The resolvers containers use: those given, or the host's (its IPv4 nameservers). */
        public List<String> resolvers() {
            if (dns != null && !dns.isEmpty()) {
                return dns;
            }
            List<String> out = new ArrayList<>();
            try {
                for (String line : Files.readAllLines(Path.of("/etc/resolv.conf"))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length >= 2 && f[0].equals("nameserver") && f[1].matches("([0-9]{1,3}\\.){3}[0-9]{1,3}")) {
                        out.add(f[1]);
                    }
                }
            } catch (IOException e) {
                // none
            }
            return out;
        }

        public boolean enabled() {
            return !"none".equals(bridge);
        }
    }

    private final NetworkStore store;
    private final Options options;
    private final Ipam ipam = new Ipam();
    private final Firewall firewall;
    private final Map<String, List<PortMapping>> published = new ConcurrentHashMap<>();
    private volatile Events events = new Events();
    private volatile Predicate<String> inUse = id -> false;
    private final Object lock = new Object();
    private boolean firewallWritten;

    public Networks(Path dataRoot, Options options) throws IOException {
        this.store = new NetworkStore(dataRoot);
        this.options = options;
        this.firewall = options.iptables() ? new Firewall(tool("iptables-restore"), tool("iptables-save")) : null;
    }

    private static String tool(String name) {
        for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin")) {
            if (Files.isExecutable(Path.of(dir, name))) {
                return dir + "/" + name;
            }
        }
        return name;
    }

    public void setEvents(Events events) {
        this.events = events;
    }

    /** Tells which networks have endpoints (containers attached): those cannot be removed. */
    public void setInUse(Predicate<String> inUse) {
        this.inUse = inUse;
    }

    public Options options() {
        return options;
    }

    /** At start: the default network's record, every network's bridge and the daemon's firewall rules. */
    public void start() throws IOException {
        synchronized (lock) {
            if (options.enabled() && store.find(DEFAULT) == null) {
                store.save(defaultRecord());
            }
            if (!options.enabled()) {
                NetworkRecord stale = store.find(DEFAULT);
                if (stale != null && stale.isDefault()) {
                    store.delete(stale.id());
                }
            }
            for (NetworkRecord n : store.all()) {
                ipam.addNetwork(n);
                ensureBridge(n);
            }
            applyFirewall();
        }
    }

    private NetworkRecord defaultRecord() {
        Subnet subnet;
        int gateway;
        if (options.bip() != null && !options.bip().isEmpty()) {
            Subnet given = Subnet.parse(options.bip());
            subnet = given;
            gateway = Subnet.address(options.bip().substring(0, options.bip().indexOf('/')));
            if (gateway == subnet.base()) {
                gateway = subnet.base() + 1;
            }
        } else {
            subnet = Ipam.freeSubnet(store.all().stream().map(NetworkRecord::subnetValue).toList());
            gateway = subnet.base() + 1;
        }
        return new NetworkRecord(newId(), DEFAULT, "bridge", Instant.now().toString(), subnet.toString(), Subnet.text(gateway), null,
                false, false, Map.of(), Map.of("com.docker.network.bridge.default_bridge", "true",
                "com.docker.network.bridge.enable_icc", "true", "com.docker.network.bridge.enable_ip_masquerade", "true",
                "com.docker.network.bridge.host_binding_ipv4", "0.0.0.0", "com.docker.network.bridge.name", options.bridge(),
                "com.docker.network.driver.mtu", "1500"), options.bridge(), true, false);
    }

    private static String newId() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** The host route a subnet would overlap (a.b.c.d/n), if any: such a network would take over that traffic. */
    public static java.util.Optional<String> hostRouteOverlapping(String cidr) {
        Subnet s = Subnet.parse(cidr);
        return Ipam.hostRoutes().stream().filter(s::overlaps).map(Subnet::toString).findFirst();
    }

    // ------------------------------------------------------------------ networks

    /** docker network create. */
    public NetworkRecord create(NetworkSpec spec) throws IOException {
        String driver = spec.driver() == null || spec.driver().isEmpty() ? "bridge" : spec.driver();
        if (!driver.equals("bridge")) {
            throw EngineException.notFound("plugin \"" + driver + "\" not found: dockgate has the bridge driver only");
        }
        if (spec.name() == null || spec.name().isEmpty() || !NAME.matcher(spec.name()).matches()) {
            throw EngineException.invalid("invalid network name \"" + spec.name() + "\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
        }
        if (Set.of("bridge", "host", "none", "default").contains(spec.name())) {
            throw new EngineException(ErrorKind.PERMISSION_DENIED, "operation is not permitted on predefined " + spec.name() + " network ");
        }
        for (String key : spec.optionsOrEmpty().keySet()) {
            if (!OPTIONS.contains(key)) {
                throw EngineException.invalid("network option " + key + " is not supported by dockgate (supported: "
                        + String.join(", ", new java.util.TreeSet<>(OPTIONS)) + ")");
            }
        }
        synchronized (lock) {
            if (store.all().stream().anyMatch(n -> n.name().equals(spec.name()))) {
                throw EngineException.conflict("network with name " + spec.name() + " already exists");
            }
            List<Subnet> inUse = store.all().stream().map(NetworkRecord::subnetValue).toList();
            Subnet subnet;
            if (spec.subnet() != null && !spec.subnet().isEmpty()) {
                subnet = Subnet.parse(spec.subnet());
                if (subnet.prefix() > 30) {
                    throw EngineException.invalid("invalid subnet " + spec.subnet() + ": a bridge network needs at least a /30");
                }
                for (NetworkRecord other : store.all()) {
                    if (other.subnetValue().overlaps(subnet)) {
                        throw new EngineException(ErrorKind.PERMISSION_DENIED, "Pool overlaps with other one on this address space");
                    }
                }
            } else {
                if (spec.gateway() != null && !spec.gateway().isEmpty() || spec.ipRange() != null && !spec.ipRange().isEmpty()) {
                    throw EngineException.invalid("invalid pool request: a gateway or an IP range needs a subnet");
                }
                subnet = Ipam.freeSubnet(inUse);
            }
            int gateway = subnet.base() + 1;
            if (spec.gateway() != null && !spec.gateway().isEmpty()) {
                gateway = Subnet.address(spec.gateway());
                if (!subnet.contains(gateway) || gateway == subnet.base() || gateway == subnet.last()) {
                    throw EngineException.invalid("invalid gateway " + spec.gateway() + ": not a host address of " + subnet);
                }
            }
            String ipRange = null;
            if (spec.ipRange() != null && !spec.ipRange().isEmpty()) {
                Subnet range = Subnet.parse(spec.ipRange());
                if (!subnet.contains(range)) {
                    throw EngineException.invalid("invalid IP range " + spec.ipRange() + ": not inside the subnet " + subnet);
                }
                ipRange = range.toString();
            }
            String id = newId();
            String bridge = spec.optionsOrEmpty().getOrDefault("com.docker.network.bridge.name", "br-" + id.substring(0, 12));
            if (bridge.length() > 15 || !bridge.matches("[a-zA-Z0-9_.-]+")) {
                throw EngineException.invalid("invalid bridge name " + bridge + ": at most 15 of [a-zA-Z0-9_.-]");
            }
            if (store.all().stream().anyMatch(n -> n.bridge().equals(bridge))) {
                throw EngineException.conflict("bridge name " + bridge + " is used by another network");
            }
            try (Netlink nl = Netlink.open()) {
                if (nl.index(bridge) != 0) {
                    throw EngineException.conflict("an interface named " + bridge + " exists on the host already");
                }
            }
            NetworkRecord n = new NetworkRecord(id, spec.name(), "bridge", Instant.now().toString(), subnet.toString(),
                    Subnet.text(gateway), ipRange, spec.internal(), spec.attachable(), new LinkedHashMap<>(spec.labelsOrEmpty()),
                    new LinkedHashMap<>(spec.optionsOrEmpty()), bridge, false, spec.gateway() != null && !spec.gateway().isEmpty());
            ensureBridge(n);
            try {
                store.save(n);
                ipam.addNetwork(n);
                applyFirewall();
            } catch (IOException | RuntimeException e) {
                removeBridge(n);
                store.delete(n.id());
                throw e;
            }
            emit(n, "create", Map.of());
            return n;
        }
    }

    /** docker network rm. */
    public void remove(String ref) throws IOException {
        synchronized (lock) {
            NetworkRecord n = store.get(ref);
            if (n.isDefault()) {
                throw new EngineException(ErrorKind.PERMISSION_DENIED, n.name() + " is a pre-defined network and cannot be removed");
            }
            if (inUse.test(n.id())) {
                throw new EngineException(ErrorKind.PERMISSION_DENIED, "error while removing network: network " + n.name() + " id "
                        + n.id() + " has active endpoints");
            }
            store.delete(n.id());
            ipam.removeNetwork(n.id());
            removeBridge(n);
            applyFirewall();
            emit(n, "destroy", Map.of());
        }
    }

    public List<NetworkRecord> list() {
        return store.all();
    }

    /** By ID, name or unique ID prefix; null when none. */
    public NetworkRecord find(String ref) {
        return store.find(ref);
    }

    public NetworkRecord get(String ref) {
        return store.get(ref);
    }

    private void emit(NetworkRecord n, String action, Map<String, String> extra) {
        Map<String, String> attrs = new LinkedHashMap<>();
        attrs.put("name", n.name());
        attrs.put("type", n.driver());
        attrs.putAll(extra);
        events.emit("network", action, n.id(), attrs, n.labelsOrEmpty());
    }

    /** Emits a network event for a container joining or leaving (connect, disconnect). */
    public void emitEndpoint(NetworkRecord n, String action, String containerId) {
        emit(n, action, Map.of("container", containerId));
    }

    // ------------------------------------------------------------------ bridges and rules

    private void ensureBridge(NetworkRecord n) throws IOException {
        Subnet subnet = n.subnetValue();
        try (Netlink nl = Netlink.open()) {
            int index = nl.index(n.bridge());
            if (index == 0) {
                nl.addBridge(n.bridge(), null);
                index = nl.index(n.bridge());
            }
            try {
                nl.addAddress(index, Subnet.inet(n.gatewayAddress()), subnet.prefix());
            } catch (Syscalls.ErrnoException e) {
                if (e.errno() != Netlink.EEXIST) {
                    throw e;
                }
            }
            nl.up(index);
        }
        Files.writeString(Path.of("/proc/sys/net/ipv4/ip_forward"), "1"); // containers reach out through the host
        // published ports reach containers from 127.0.0.1 (see Firewall: the CVE-2020-8558 guard)
        Files.writeString(Path.of("/proc/sys/net/ipv4/conf", n.bridge(), "route_localnet"), "1");
    }

    private void removeBridge(NetworkRecord n) {
        try (Netlink nl = Netlink.open()) {
            int index = nl.index(n.bridge());
            if (index > 0) {
                nl.deleteLink(index);
            }
        } catch (IOException e) {
            LOG.warn("removing bridge {} of network {}: {}", n.bridge(), n.name(), e.getMessage());
        }
    }

    Ipam ipam() {
        return ipam;
    }

    /** Puts a container's published ports in force. */
    void publish(String containerId, List<PortMapping> ports) throws IOException {
        synchronized (lock) {
            published.put(containerId, List.copyOf(ports));
            try {
                applyFirewall();
            } catch (IOException | RuntimeException e) {
                published.remove(containerId);
                throw e;
            }
        }
    }

    void unpublish(String containerId) throws IOException {
        synchronized (lock) {
            if (published.remove(containerId) != null) {
                applyFirewall();
            }
        }
    }

    /** A restored container's ports, in force again at the next rewrite of the rules. */
    void restorePublished(String containerId, List<PortMapping> ports) {
        if (!ports.isEmpty()) {
            published.put(containerId, List.copyOf(ports));
        }
    }

    /** Rewrites the daemon's firewall chains from the networks and the published ports in force. */
    void applyFirewall() throws IOException {
        if (firewall == null || store.all().isEmpty() && published.isEmpty() && !firewallWritten) {
            return; // nothing to write, and nothing written before: the host's rules are not touched
        }
        firewallWritten = true;
        List<PortMapping> ports = new ArrayList<>();
        published.values().forEach(ports::addAll);
        firewall.apply(store.all(), ports);
    }
}
