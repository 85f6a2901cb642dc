package io.dockgate.gateway.testing;

import io.dockgate.config.ConfigKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Networking for tests: a daemon flag set with a default bridge of the test's own (its name and subnet),
 * and the cleanup that removes what such a daemon leaves on the host by design (its bridges, its
 * iptables chains and the jumps into them), so that a test run leaves the host as it found it.
 */
public final class TestNetworking {
    private TestNetworking() {
    }

    /** Flags for a daemon whose default bridge is {@code bridge} on {@code bip} (gateway/prefix), with its firewall. */
    public static Map<ConfigKey, Object> flags(String bridge, String bip) {
        return Map.of(ConfigKey.BRIDGE, bridge, ConfigKey.BIP, bip, ConfigKey.IPTABLES, true);
    }

    /**
     * Ends a session of a networking daemon: its containers and user networks removed (their bridges go
     * with them), the daemon stopped, then its default bridge and its firewall chains taken off the host.
     */
    public static void removeNetworksAndClose(CliSession cli, String defaultBridge) throws Exception {
        List<String> bridges = new ArrayList<>(List.of(defaultBridge));
        try {
            cli.removeAllContainers();
            for (String n : cli.ok("network", "ls", "-q", "--filter", "type=custom").stdout().split("\\s+")) {
                if (!n.isBlank()) {
                    bridges.add("br-" + n.substring(0, 12)); // in case its removal fails
                    cli.docker("network", "rm", n);
                }
            }
        } finally {
            cli.close();
            cleanup(bridges);
        }
    }

    /** Removes the links and the daemon's iptables chains (every jump into them, then the chains). */
    public static void cleanup(List<String> links) throws Exception {
        for (String link : links) {
            run(List.of("ip", "link", "delete", link));
        }
        String[][] jumps = {
            {"nat", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "DOCKGATE"},
            {"nat", "OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "DOCKGATE"},
            {"nat", "POSTROUTING", "-j", "DOCKGATE-POSTROUTING"},
            {"filter", "FORWARD", "-j", "DOCKGATE-FORWARD"},
            {"filter", "INPUT", "-j", "DOCKGATE-INPUT"},
        };
        for (String[] j : jumps) {
            List<String> cmd = new ArrayList<>(List.of("iptables", "-w", "-t", j[0], "-D", j[1]));
            cmd.addAll(List.of(j).subList(2, j.length));
            while (run(cmd) == 0) {
                // every copy
            }
        }
        for (String[] chain : new String[][] {{"nat", "DOCKGATE"}, {"nat", "DOCKGATE-POSTROUTING"}, {"filter", "DOCKGATE-FORWARD"},
                {"filter", "DOCKGATE-INPUT"}}) {
            run(List.of("iptables", "-w", "-t", chain[0], "-F", chain[1]));
            run(List.of("iptables", "-w", "-t", chain[0], "-X", chain[1]));
        }
    }

    /** The links on the host whose names start with the prefix. */
    public static List<String> links(String prefix) throws Exception {
        List<String> out = new ArrayList<>();
        for (String line : output(List.of("ip", "-o", "link", "show")).split("\n")) {
            String[] f = line.split(":\\s+");
            if (f.length > 1) {
                String name = f[1].contains("@") ? f[1].substring(0, f[1].indexOf('@')) : f[1];
                if (name.startsWith(prefix)) {
                    out.add(name);
                }
            }
        }
        return out;
    }

    public static String output(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }

    private static int run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }
}
