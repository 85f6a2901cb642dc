package io.dockgate.engine.net;

import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.sys.NetNamespaces;
import io.dockgate.engine.sys.Netlink;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Containers on bridge networks: for a starting container, a network namespace (a bind-mounted file
 * under {@code <exec-root>/netns/}, handed to runc by path), one veth pair per network (the host end on
 * the network's bridge with hairpin, the other end {@code ethN} inside, with its address, MAC and the
 * default route), loopback up, and its published ports (host ports reserved here, forwarded by the
 * firewall's DNAT). Undone when the container exits; taken back as stored when the daemon restarts;
 * namespaces no running container holds are removed at start.
 */
public final class Sandboxes {
    private static final Logger LOG = LoggerFactory.getLogger(Sandboxes.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Networks networks;
    private final Path dir;
    /** Host ports in use: "tcp/0.0.0.0/8080" → container ID. */
    private final Map<String, String> reserved = new ConcurrentHashMap<>();
    private int nextEphemeral = -1;

    private boolean prepared;

    public Sandboxes(Networks networks, Path execRoot) {
        this.networks = networks;
        this.dir = execRoot.resolve("netns");
    }

    /** The namespace directory as a private mount of its own, made when the first container needs it. */
    private synchronized void prepare() throws IOException {
        if (!prepared) {
            NetNamespaces.preparePrivateDirectory(dir);
            prepared = true;
        }
    }

    /** The namespace file of a container. */
    public Path sandbox(String containerId) {
        return dir.resolve(containerId);
    }

    /** Sets up a starting container's network; on failure nothing is left behind. */
    public NetworkState attach(String containerId, List<EndpointRequest> requests, List<PortBinding> ports) throws IOException {
        prepare();
        Path sandbox = sandbox(containerId);
        NetNamespaces.delete(sandbox); // a crash between start and record
        NetNamespaces.create(sandbox);
        List<Endpoint> endpoints = new ArrayList<>();
        NetworkState state = new NetworkState(sandbox.toString(), endpoints, List.of());
        try {
            int nsfd = NetNamespaces.open(sandbox);
            try (Netlink host = Netlink.open()) {
                int i = 0;
                for (EndpointRequest r : requests) {
                    addEndpoint(host, nsfd, r, "eth" + i++, endpoints);
                }
            } finally {
                NetNamespaces.close(nsfd);
            }
            NetNamespaces.inside(sandbox, () -> {
                try (Netlink inside = Netlink.open()) {
                    inside.up(inside.index("lo"));
                    boolean routed = false;
                    for (Endpoint e : endpoints) {
                        int index = inside.index(e.ifName());
                        inside.addAddress(index, Subnet.inet(Subnet.address(e.ip())), e.prefix());
                        inside.up(index);
                        NetworkRecord n = networks.get(e.networkId());
                        if (!routed && !n.internal()) {
                            inside.addDefaultRoute(index, Subnet.inet(n.gatewayAddress()));
                            routed = true;
                        }
                    }
                }
                return null;
            });
            List<PortMapping> mappings = publish(containerId, endpoints, ports);
            return new NetworkState(sandbox.toString(), List.copyOf(endpoints), mappings);
        } catch (IOException | RuntimeException e) {
            detach(containerId, state);
            throw e;
        }
    }

    /** One endpoint: an address on the network, a veth pair with its inner end (ifName) in the namespace open as nsfd. */
    private Endpoint addEndpoint(Netlink host, int nsfd, EndpointRequest r, String ifName, List<Endpoint> into) throws IOException {
        NetworkRecord n = networks.get(r.network());
        int ip = networks.ipam().allocate(n, r.ipv4());
        String endpointId = HexFormat.of().formatHex(randomBytes(32));
        String mac = r.mac() != null && !r.mac().isEmpty() ? r.mac().toLowerCase(java.util.Locale.ROOT) : macOf(ip);
        String hostIf = "veth" + endpointId.substring(0, 7);
        Endpoint e = new Endpoint(n.name(), n.id(), endpointId, Subnet.text(ip), n.subnetValue().prefix(), n.gateway(), mac,
                r.aliasesOrEmpty(), ifName, hostIf);
        into.add(e); // from here on, undoing the endpoint releases its address
        int master = host.index(n.bridge());
        if (master == 0) {
            throw new EngineException(ErrorKind.INTERNAL, "the bridge " + n.bridge() + " of network " + n.name() + " is gone");
        }
        host.addVeth(hostIf, master, mtu(n), ifName, macBytes(mac), nsfd);
        host.up(host.index(hostIf));
        Files.writeString(Path.of("/sys/class/net", hostIf, "brport", "hairpin_mode"), "1");
        return e;
    }

    /**
     * docker network connect of a running container: one more endpoint in its namespace, at once (the
     * default route only when it had none).
     */
    public NetworkState connect(String containerId, NetworkState state, EndpointRequest r) throws IOException {
        NetworkRecord n = networks.get(r.network());
        if (state.endpointsOrEmpty().stream().anyMatch(e -> e.networkId().equals(n.id()))) {
            throw new EngineException(ErrorKind.PERMISSION_DENIED, "endpoint with name " + containerId.substring(0, 12)
                    + " already exists in network " + n.name());
        }
        Path sandbox = Path.of(state.sandbox());
        int next = state.endpointsOrEmpty().stream().mapToInt(e -> Integer.parseInt(e.ifName().substring(3))).max().orElse(-1) + 1;
        boolean routed = state.endpointsOrEmpty().stream().anyMatch(e -> {
            NetworkRecord other = networks.find(e.networkId());
            return other != null && !other.internal();
        });
        List<Endpoint> added = new ArrayList<>();
        try {
            int nsfd = NetNamespaces.open(sandbox);
            try (Netlink host = Netlink.open()) {
                addEndpoint(host, nsfd, r, "eth" + next, added);
            } finally {
                NetNamespaces.close(nsfd);
            }
            Endpoint e = added.get(0);
            NetNamespaces.inside(sandbox, () -> {
                try (Netlink inside = Netlink.open()) {
                    int index = inside.index(e.ifName());
                    inside.addAddress(index, Subnet.inet(Subnet.address(e.ip())), e.prefix());
                    inside.up(index);
                    if (!routed && !n.internal()) {
                        inside.addDefaultRoute(index, Subnet.inet(n.gatewayAddress()));
                    }
                }
                return null;
            });
        } catch (IOException | RuntimeException x) {
            added.forEach(this::removeEndpoint);
            throw x;
        }
        List<Endpoint> all = new ArrayList<>(state.endpointsOrEmpty());
        all.addAll(added);
        return new NetworkState(state.sandbox(), all, state.portsOrEmpty());
    }

    /** docker network disconnect of a running container: its endpoint on the network goes (and ports forwarded to it). */
    public NetworkState disconnect(String containerId, NetworkState state, String networkId) throws IOException {
        List<Endpoint> left = new ArrayList<>();
        Endpoint gone = null;
        for (Endpoint e : state.endpointsOrEmpty()) {
            if (e.networkId().equals(networkId)) {
                gone = e;
            } else {
                left.add(e);
            }
        }
        if (gone == null) {
            return state;
        }
        String ip = gone.ip();
        List<PortMapping> kept = state.portsOrEmpty().stream().filter(m -> !m.containerIp().equals(ip)).toList();
        if (kept.size() != state.portsOrEmpty().size()) {
            state.portsOrEmpty().stream().filter(m -> m.containerIp().equals(ip)).forEach(this::unreserve);
            networks.publish(containerId, kept);
        }
        removeEndpoint(gone);
        return new NetworkState(state.sandbox(), left, kept);
    }

    private void removeEndpoint(Endpoint e) {
        try (Netlink host = Netlink.open()) {
            int index = host.index(e.hostIf());
            if (index > 0) {
                host.deleteLink(index);
            }
        } catch (IOException x) {
            LOG.warn("removing interface {}: {}", e.hostIf(), x.getMessage());
        }
        NetworkRecord n = networks.find(e.networkId());
        if (n != null) {
            networks.ipam().release(n.id(), Subnet.address(e.ip()));
        }
    }

    private static int mtu(NetworkRecord n) {
        String v = n.optionsOrEmpty().get("com.docker.network.driver.mtu");
        try {
            return v == null ? 0 : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Docker's MAC for an address: 02:42 and the four bytes of the IPv4 address. */
    static String macOf(int ip) {
        return String.format("02:42:%02x:%02x:%02x:%02x", (ip >>> 24) & 0xff, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff);
    }

    static byte[] macBytes(String mac) {
        if (!mac.matches("([0-9a-f]{2}:){5}[0-9a-f]{2}")) {
            throw EngineException.invalid("invalid MAC address " + mac);
        }
        byte[] b = new byte[6];
        String[] p = mac.split(":");
        for (int i = 0; i < 6; i++) {
            b[i] = (byte) Integer.parseInt(p[i], 16);
        }
        if ((b[0] & 1) != 0) {
            throw EngineException.invalid("invalid MAC address " + mac + ": a multicast address");
        }
        return b;
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    // ------------------------------------------------------------------ ports

    private List<PortMapping> publish(String containerId, List<Endpoint> endpoints, List<PortBinding> ports) throws IOException {
        if (ports.isEmpty()) {
            return List.of();
        }
        Endpoint target = endpoints.stream().filter(e -> !networks.get(e.networkId()).internal()).findFirst().orElse(null);
        if (target == null) {
            throw EngineException.invalid("published ports need a network that is not internal");
        }
        NetworkRecord n = networks.get(target.networkId());
        List<PortMapping> out = new ArrayList<>();
        try {
            for (PortBinding b : ports) {
                String hostIp = b.hostIp().isEmpty()
                        ? n.optionsOrEmpty().getOrDefault("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0") : b.hostIp();
                int port = reserve(containerId, b.protocol(), hostIp, b.range());
                out.add(new PortMapping(hostIp, port, target.ip(), b.containerPort(), b.protocol(), n.bridge()));
            }
        } catch (IOException | RuntimeException e) {
            out.forEach(this::unreserve);
            throw e;
        }
        networks.publish(containerId, out);
        return out;
    }

    /** A free host port (in the range, or ephemeral) reserved for the container: "port is already allocated" otherwise. */
    private synchronized int reserve(String containerId, String protocol, String hostIp, int[] range) throws IOException {
        if (range != null) {
            for (int p = range[0]; p <= range[1]; p++) {
                if (tryReserve(containerId, protocol, hostIp, p)) {
                    return p;
                }
            }
            String at = hostIp + ":" + (range[0] == range[1] ? String.valueOf(range[0]) : range[0] + "-" + range[1]);
            throw new EngineException(ErrorKind.RUNTIME, "driver failed programming external connectivity on endpoint " + containerId
                    .substring(0, 12) + ": Bind for " + at + " failed: port is already allocated");
        }
        int[] ephemeral = ephemeralRange();
        int size = ephemeral[1] - ephemeral[0] + 1;
        if (nextEphemeral < 0) {
            nextEphemeral = ephemeral[0];
        }
        for (int i = 0; i < size; i++) {
            int p = ephemeral[0] + Math.floorMod(nextEphemeral - ephemeral[0] + i, size);
            if (tryReserve(containerId, protocol, hostIp, p)) {
                nextEphemeral = p + 1;
                return p;
            }
        }
        throw EngineException.conflict("no free host port left in " + ephemeral[0] + "-" + ephemeral[1]);
    }

    private boolean tryReserve(String containerId, String protocol, String hostIp, int port) {
        for (String key : List.of(key(protocol, hostIp, port), key(protocol, "0.0.0.0", port))) {
            if (reserved.containsKey(key)) {
                return false;
            }
        }
        if (hostIp.equals("0.0.0.0") && reserved.keySet().stream().anyMatch(k -> k.startsWith(protocol + "/") && k.endsWith("/" + port))) {
            return false;
        }
        if (!bindable(protocol, hostIp, port)) {
            return false; // a process of the host listens there
        }
        reserved.put(key(protocol, hostIp, port), containerId);
        return true;
    }

    private static boolean bindable(String protocol, String hostIp, int port) {
        try {
            InetSocketAddress at = new InetSocketAddress(InetAddress.getByName(hostIp), port);
            if (protocol.equals("udp")) {
                try (DatagramSocket s = new DatagramSocket(null)) {
                    s.bind(at);
                }
            } else {
                try (ServerSocket s = new ServerSocket()) {
                    s.setReuseAddress(true);
                    s.bind(at);
                }
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String key(String protocol, String hostIp, int port) {
        return protocol + "/" + hostIp + "/" + port;
    }

    private void unreserve(PortMapping m) {
        reserved.remove(key(m.protocol(), m.hostIp(), m.hostPort()));
    }

    static int[] ephemeralRange() {
        try {
            String[] p = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim().split("\\s+");
            return new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1])};
        } catch (IOException | RuntimeException e) {
            return new int[] {32768, 60999};
        }
    }

    // ------------------------------------------------------------------ teardown, restore, sweep

    /** Undoes a container's network (at its exit, or after a failed start): ports, veths, addresses, namespace. */
    public void detach(String containerId, NetworkState state) {
        if (state == null) {
            return;
        }
        try {
            if (!state.portsOrEmpty().isEmpty()) {
                state.portsOrEmpty().forEach(this::unreserve);
                networks.unpublish(containerId);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("unpublishing the ports of {}: {}", containerId, e.getMessage());
        }
        try (Netlink host = Netlink.open()) {
            for (Endpoint e : state.endpointsOrEmpty()) {
                int index = host.index(e.hostIf());
                if (index > 0) {
                    host.deleteLink(index); // takes the peer inside along, at once
                }
                NetworkRecord n = networks.find(e.networkId());
                if (n != null) {
                    networks.ipam().release(n.id(), Subnet.address(e.ip()));
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("removing the interfaces of {}: {}", containerId, e.getMessage());
        }
        try {
            NetNamespaces.delete(Path.of(state.sandbox()));
        } catch (IOException e) {
            LOG.warn("removing the network namespace of {}: {}", containerId, e.getMessage());
        }
    }

    /** Takes back a running container's network after a daemon restart (addresses and ports held again). */
    public void restore(String containerId, NetworkState state) {
        for (Endpoint e : state.endpointsOrEmpty()) {
            NetworkRecord n = networks.find(e.networkId());
            if (n != null) {
                networks.ipam().claim(n, Subnet.address(e.ip()));
            }
        }
        for (PortMapping m : state.portsOrEmpty()) {
            reserved.put(key(m.protocol(), m.hostIp(), m.hostPort()), containerId);
        }
        networks.restorePublished(containerId, state.portsOrEmpty());
    }

    /**
     * At the daemon's stop: the namespace directory's own mount is taken down when no running container
     * holds a namespace in it (otherwise it stays, for the next start to take them back).
     */
    public synchronized void close() {
        if (!prepared) {
            return;
        }
        try (Stream<Path> files = Files.list(dir)) {
            if (files.findAny().isEmpty()) {
                io.dockgate.engine.sys.Syscalls.umount(dir.toString(), io.dockgate.engine.sys.Syscalls.MNT_DETACH);
            }
        } catch (IOException e) {
            LOG.debug("unmounting {}: {}", dir, e.getMessage());
        }
    }

    /** At start, after the running containers were restored: namespaces no running container holds go, rules are rewritten. */
    public void sweep(Set<String> running) throws IOException {
        if (Files.isDirectory(dir)) {
            prepare(); // namespaces of containers that run on: mounted below it since the last start
        } else {
            networks.applyFirewall();
            return;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                if (!running.contains(f.getFileName().toString())) {
                    LOG.info("removing the network namespace of {}, which no running container holds", f.getFileName());
                    NetNamespaces.delete(f);
                }
            }
        }
        networks.applyFirewall();
    }
}
