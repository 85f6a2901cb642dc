package io.dockgate.engine.container;

import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.net.Endpoint;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Legacy links on the default bridge ({@code docker run --link child:alias}), as dockerd makes them when
 * the linking container starts: a line in its /etc/hosts (alias, the child's hostname and name, to the
 * child's address) and the child's address, ports and environment as variables ({@code ALIAS_PORT},
 * {@code ALIAS_PORT_80_TCP_ADDR}, {@code ALIAS_NAME}, {@code ALIAS_ENV_X}...). The child must be running on
 * the default bridge. A child removed since is left out (its link went with it, as in dockerd).
 */
final class LegacyLinks {
    /** What the links add to a starting container: /etc/hosts lines and environment variables. */
    record Resolved(String hostsLines, List<String> env) {
        static final Resolved NONE = new Resolved("", List.of());
    }

    private LegacyLinks() {
    }

    static Resolved resolve(ContainerRecord parent, ContainerStore store, String defaultBridgeId) {
        List<ContainerSpec.Link> links = parent.spec().netOrNone().linksOrEmpty();
        if (links.isEmpty()) {
            return Resolved.NONE;
        }
        StringBuilder hosts = new StringBuilder();
        List<String> env = new ArrayList<>();
        for (ContainerSpec.Link link : links) {
            ContainerRecord child = store.get(link.container());
            if (child == null) {
                continue;
            }
            String linkName = parent.name() + "/" + link.alias();
            if (!child.status().state().hasProcess() || child.status().network() == null) {
                throw new EngineException(ErrorKind.RUNTIME, "Cannot link to a non running container: " + child.name() + " AS " + linkName);
            }
            Endpoint e = child.status().network().endpointsOrEmpty().stream()
                    .filter(x -> x.networkId().equals(defaultBridgeId)).findFirst()
                    .orElseThrow(() -> new EngineException(ErrorKind.RUNTIME, "Cannot link to " + child.name()
                            + ", as it does not belong to the default network"));
            String ip = e.ip(); // the address alone (the prefix length is apart)
            String names = link.alias() + " " + child.spec().hostname();
            if (!link.alias().equals(child.name().substring(1))) {
                names += " " + child.name().substring(1);
            }
            hosts.append(ip).append('\t').append(names).append('\n');
            env.addAll(env(link.alias(), linkName, ip, child));
        }
        return new Resolved(hosts.toString(), env);
    }

    /**
     * The variables of one link, in dockerd's order: the first port (TCP ones first, then by number) as
     * ALIAS_PORT, each port's four, each range of consecutive ports' start and end, the link's name, and
     * the child's environment but HOME and PATH.
     */
    static List<String> env(String alias, String linkName, String ip, ContainerRecord child) {
        String a = alias.toUpperCase(Locale.ROOT).replace('-', '_');
        List<int[]> ports = new ArrayList<>(); // {number, 0 tcp / 1 sctp / 2 udp}: TCP first, then by protocol name
        java.util.Set<String> seen = new java.util.HashSet<>();
        List<String> exposed = new ArrayList<>(child.spec().netOrNone().exposedOrEmpty());
        child.spec().netOrNone().portsOrEmpty().forEach(b -> exposed.add(b.containerPort() + "/" + b.protocol()));
        for (String p : exposed) {
            if (seen.add(p)) {
                String[] pp = p.split("/");
                String proto = pp.length > 1 ? pp[1] : "tcp";
                ports.add(new int[] {Integer.parseInt(pp[0]), proto.equals("tcp") ? 0 : proto.equals("sctp") ? 1 : 2});
            }
        }
        ports.sort(Comparator.<int[]>comparingInt(p -> p[1]).thenComparingInt(p -> p[0]));
        List<String> env = new ArrayList<>();
        int[] start = null;
        int[] end = null;
        for (int i = 0; i < ports.size(); i++) {
            int[] p = ports.get(i);
            String proto = proto(p[1]);
            if (i == 0) {
                start = p;
                end = p;
                env.add(a + "_PORT=" + proto + "://" + ip + ":" + p[0]);
            }
            String prefix = a + "_PORT_" + p[0] + "_" + proto.toUpperCase(Locale.ROOT);
            env.add(prefix + "=" + proto + "://" + ip + ":" + p[0]);
            env.add(prefix + "_ADDR=" + ip);
            env.add(prefix + "_PORT=" + p[0]);
            env.add(prefix + "_PROTO=" + proto);
            if (p[0] == end[0] + 1 && p[1] == end[1]) {
                end = p;
                if (i < ports.size() - 1) {
                    continue;
                }
            }
            if (end != start) {
                String range = a + "_PORT_" + start[0] + "_" + proto(start[1]).toUpperCase(Locale.ROOT);
                env.add(range + "_START=" + proto(start[1]) + "://" + ip + ":" + start[0]);
                env.add(range + "_PORT_START=" + start[0]);
                env.add(range + "_END=" + proto(end[1]) + "://" + ip + ":" + end[0]);
                env.add(range + "_PORT_END=" + end[0]);
            }
            start = p;
            end = p;
        }
        env.add(a + "_NAME=" + linkName);
        for (String v : child.spec().env() == null ? List.<String>of() : child.spec().env()) {
            int eq = v.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String name = v.substring(0, eq);
            String value = v.substring(eq + 1);
            // HOSTNAME and TERM are in the stored environment here, where dockerd adds them at start only
            boolean added = name.equals("HOSTNAME") && value.equals(child.spec().hostname()) || name.equals("TERM") && child.spec().tty();
            if (!name.equals("HOME") && !name.equals("PATH") && !added) {
                env.add(a + "_ENV_" + name + "=" + value);
            }
        }
        return env;
    }

    private static String proto(int code) {
        return code == 0 ? "tcp" : code == 1 ? "sctp" : "udp";
    }
}
