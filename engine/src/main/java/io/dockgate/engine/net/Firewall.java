package io.dockgate.engine.net;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's iptables rules, all in chains of its own (DOCKGATE, DOCKGATE-POSTROUTING in nat;
 * DOCKGATE-FORWARD, DOCKGATE-INPUT in filter), rewritten whole from the current networks and published
 * ports by one {@code iptables-restore --noflush} (atomic per table); the built-in chains get one jump
 * each, inserted once. Rules the daemon did not write are never flushed or changed.
 *
 * <p>What the rules do: published ports are DNAT (PREROUTING and OUTPUT, for local destinations), so
 * the kernel forwards them and no process runs per port; 127.0.0.1 works through {@code route_localnet}
 * on the bridges, with source NAT and the guard against CVE-2020-8558 (packets to 127.0.0.0/8 from any
 * other interface are dropped unless DNAT made them); traffic leaving a non-internal network is
 * masqueraded; hairpin (a container reaching its own published port) is masqueraded; networks are
 * isolated from each other; internal networks reach nothing outside.
 */
final class Firewall {
    private static final Logger LOG = LoggerFactory.getLogger(Firewall.class);
    static final String NAT = "DOCKGATE";
    static final String POSTROUTING = "DOCKGATE-POSTROUTING";
    static final String FORWARD = "DOCKGATE-FORWARD";
    static final String INPUT = "DOCKGATE-INPUT";

    private final String iptablesRestore;
    private final String iptablesSave;
    private boolean jumpsChecked;
    private final List<String> missingJumps = new ArrayList<>();

    Firewall(String iptablesRestore, String iptablesSave) {
        this.iptablesRestore = iptablesRestore;
        this.iptablesSave = iptablesSave;
    }

    /** The jumps from the built-in chains into ours, by table. */
    private static List<String[]> jumps() {
        return List.of(
                new String[] {"nat", "PREROUTING", "-m addrtype --dst-type LOCAL -j " + NAT},
                new String[] {"nat", "OUTPUT", "-m addrtype --dst-type LOCAL -j " + NAT},
                new String[] {"nat", "POSTROUTING", "-j " + POSTROUTING},
                new String[] {"filter", "FORWARD", "-j " + FORWARD},
                new String[] {"filter", "INPUT", "-j " + INPUT});
    }

    /** Reads the current rules once, to know which jumps are missing. */
    private void checkJumps() throws IOException {
        if (jumpsChecked) {
            return;
        }
        String nat = run(List.of(iptablesSave, "-t", "nat"), null);
        String filter = run(List.of(iptablesSave, "-t", "filter"), null);
        for (String[] j : jumps()) {
            String rule = "-A " + j[1] + " " + j[2];
            if (!(j[0].equals("nat") ? nat : filter).lines().anyMatch(l -> l.trim().equals(rule))) {
                missingJumps.add(j[0] + " " + j[1] + " " + j[2]);
            }
        }
        jumpsChecked = true;
    }

    /** Rewrites the daemon's chains for these networks and mappings. */
    synchronized void apply(List<NetworkRecord> networks, List<PortMapping> ports) throws IOException {
        checkJumps();
        String rules = render(networks, ports, missingJumps);
        run(List.of(iptablesRestore, "-w", "--noflush"), rules);
        missingJumps.clear(); // inserted by this restore
    }

    static String render(List<NetworkRecord> networks, List<PortMapping> ports, List<String> missingJumps) {
        StringBuilder nat = new StringBuilder("*nat\n");
        nat.append(':').append(NAT).append(" - [0:0]\n:").append(POSTROUTING).append(" - [0:0]\n");
        nat.append("-F ").append(NAT).append('\n').append("-F ").append(POSTROUTING).append('\n');
        StringBuilder filter = new StringBuilder("*filter\n");
        filter.append(':').append(FORWARD).append(" - [0:0]\n:").append(INPUT).append(" - [0:0]\n");
        filter.append("-F ").append(FORWARD).append('\n').append("-F ").append(INPUT).append('\n');
        for (String j : missingJumps) {
            String[] p = j.split(" ", 3);
            (p[0].equals("nat") ? nat : filter).append("-I ").append(p[1]).append(' ').append(p[2]).append('\n');
        }
        for (NetworkRecord n : networks) {
            String br = n.bridge();
            if (!n.internal()) {
                nat.append("-A ").append(POSTROUTING).append(" -s ").append(n.subnet()).append(" ! -o ").append(br).append(" -j MASQUERADE\n");
            }
            // the host's own loopback traffic DNATed into the network leaves with the bridge's address
            nat.append("-A ").append(POSTROUTING).append(" -s 127.0.0.0/8 -o ").append(br).append(" -j MASQUERADE\n");
        }
        for (PortMapping m : ports) {
            nat.append("-A ").append(NAT);
            if (!m.hostIp().isEmpty() && !m.hostIp().equals("0.0.0.0")) {
                nat.append(" -d ").append(m.hostIp()).append("/32");
            }
            nat.append(" -p ").append(m.protocol()).append(" -m ").append(m.protocol()).append(" --dport ").append(m.hostPort())
                    .append(" -j DNAT --to-destination ").append(m.containerIp()).append(':').append(m.containerPort()).append('\n');
            nat.append("-A ").append(POSTROUTING).append(" -s ").append(m.containerIp()).append("/32 -d ").append(m.containerIp())
                    .append("/32 -p ").append(m.protocol()).append(" -m ").append(m.protocol()).append(" --dport ")
                    .append(m.containerPort()).append(" -j MASQUERADE\n");
        }
        // filter: isolation first, then what each network may do
        for (NetworkRecord a : networks) {
            for (NetworkRecord b : networks) {
                if (a != b) {
                    filter.append("-A ").append(FORWARD).append(" -i ").append(a.bridge()).append(" -o ").append(b.bridge())
                            .append(" -j DROP\n");
                }
            }
        }
        for (NetworkRecord n : networks) {
            String br = n.bridge();
            if (n.internal()) {
                filter.append("-A ").append(FORWARD).append(" -i ").append(br).append(" ! -o ").append(br).append(" -j DROP\n");
                filter.append("-A ").append(FORWARD).append(" ! -i ").append(br).append(" -o ").append(br).append(" -j DROP\n");
            }
        }
        for (PortMapping m : ports) {
            filter.append("-A ").append(FORWARD).append(" -d ").append(m.containerIp()).append("/32 ! -i ").append(m.bridge())
                    .append(" -o ").append(m.bridge()).append(" -p ").append(m.protocol()).append(" -m ").append(m.protocol())
                    .append(" --dport ").append(m.containerPort()).append(" -j ACCEPT\n");
        }
        for (NetworkRecord n : networks) {
            String br = n.bridge();
            filter.append("-A ").append(FORWARD).append(" -o ").append(br)
                    .append(" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");
            filter.append("-A ").append(FORWARD).append(" -i ").append(br).append(" -o ").append(br).append(" -j ACCEPT\n");
            if (!n.internal()) {
                filter.append("-A ").append(FORWARD).append(" -i ").append(br).append(" ! -o ").append(br).append(" -j ACCEPT\n");
            }
        }
        filter.append("-A ").append(INPUT)
                .append(" -d 127.0.0.0/8 ! -i lo -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\n");
        return nat.append("COMMIT\n").toString() + filter.append("COMMIT\n");
    }

    private static String run(List<String> command, String input) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (input != null) {
            try (var in = p.getOutputStream()) {
                in.write(input.getBytes(StandardCharsets.UTF_8));
            }
        } else {
            p.getOutputStream().close();
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(command.get(0) + " did not finish");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        }
        if (p.exitValue() != 0) {
            LOG.debug("{} failed on:\n{}", command, input);
            throw new IOException(String.join(" ", command) + " failed: " + out.strip());
        }
        return out;
    }
}
