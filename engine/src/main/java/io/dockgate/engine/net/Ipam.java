package io.dockgate.engine.net;

import io.dockgate.engine.EngineException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Address management in the daemon, as dockerd's default IPAM: subnets for new networks from its pools
 * (172.17-31.0.0/16, then 192.168.0-240.0/20), skipping subnets of other networks and those already
 * routed on the host; addresses within a network, the network address, the gateway and the broadcast
 * address excluded. In memory: rebuilt from the networks and the running containers at start.
 */
final class Ipam {
    private final Map<String, Set<Integer>> taken = new HashMap<>();
    private final Map<String, Integer> cursor = new HashMap<>();

    /** dockerd's default local pools, in order. */
    static List<Subnet> pools() {
        List<Subnet> out = new ArrayList<>();
        for (int second = 17; second <= 31; second++) {
            out.add(new Subnet((172 << 24) | (second << 16), 16));
        }
        for (int third = 0; third <= 240; third += 16) {
            out.add(new Subnet((192 << 24) | (168 << 16) | (third << 8), 20));
        }
        return out;
    }

    /** IPv4 routes on the host (the main table), as subnets: where a new network must not go. */
    static List<Subnet> hostRoutes() {
        List<Subnet> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/net/route"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 8 || f[0].equals("Iface")) {
                    continue;
                }
                int dest = Integer.reverseBytes((int) Long.parseLong(f[1], 16));
                int mask = Integer.reverseBytes((int) Long.parseLong(f[7], 16));
                if (mask == 0) {
                    continue; // the default route covers everything and excludes nothing
                }
                out.add(new Subnet(dest, Integer.bitCount(mask)));
            }
        } catch (IOException | RuntimeException e) {
            // no route table: nothing known to avoid
        }
        return out;
    }

    /** The first pool subnet that overlaps neither an existing network nor a host route. */
    static Subnet freeSubnet(List<Subnet> inUse) {
        List<Subnet> routed = hostRoutes();
        for (Subnet candidate : pools()) {
            if (inUse.stream().noneMatch(candidate::overlaps) && routed.stream().noneMatch(candidate::overlaps)) {
                return candidate;
            }
        }
        throw EngineException.invalid("could not find an available, non-overlapping IPv4 address pool among the defaults to assign"
                + " to the network");
    }

    synchronized void addNetwork(NetworkRecord n) {
        Set<Integer> set = taken.computeIfAbsent(n.id(), k -> new HashSet<>());
        set.add(n.gatewayAddress());
    }

    synchronized void removeNetwork(String id) {
        taken.remove(id);
        cursor.remove(id);
    }

    /** Marks an address used (a running container's, at start). */
    synchronized void claim(NetworkRecord n, int address) {
        taken.computeIfAbsent(n.id(), k -> new HashSet<>()).add(address);
    }

    /** A requested address, or the next free one in the network's range (after the last one handed out, as dockerd). */
    synchronized int allocate(NetworkRecord n, String requested) {
        Set<Integer> used = taken.computeIfAbsent(n.id(), k -> new HashSet<>(Set.of(n.gatewayAddress())));
        Subnet subnet = n.subnetValue();
        if (requested != null && !requested.isEmpty()) {
            int a = Subnet.address(requested);
            if (!subnet.contains(a) || a == subnet.base() || a == subnet.last()) {
                throw EngineException.invalid("Address " + requested + " is not in the network's subnet " + subnet);
            }
            if (!used.add(a)) {
                throw EngineException.conflict("Address already in use");
            }
            return a;
        }
        Subnet range = n.allocationRange();
        long size = range.size();
        int start = cursor.getOrDefault(n.id(), 0);
        for (long i = 0; i < size; i++) {
            int offset = (int) ((start + i) % size);
            int a = range.base() + offset;
            if (a == subnet.base() || a == subnet.last() || !subnet.contains(a)) {
                continue;
            }
            if (used.add(a)) {
                cursor.put(n.id(), offset + 1);
                return a;
            }
        }
        throw EngineException.conflict("no available IPv4 addresses on this network's address pools: " + n.name());
    }

    synchronized void release(String networkId, int address) {
        Set<Integer> used = taken.get(networkId);
        if (used != null) {
            used.remove(address);
        }
    }
}
