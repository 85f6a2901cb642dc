package io.dockgate.config.policy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The names of every operation the daemon serves, as policies grant them. The gateway's operation
 * catalog registers each route under one of these names (a test keeps the two lists equal). A name is
 * {@code kind.action}; {@code container.inspect.env} is a right without a route of its own: without it,
 * {@code container.inspect} answers with the environment redacted.
 */
public final class Operations {
    /** What an operation lets the caller do, for the cookbook and for {@code policy explain}. */
    public enum Kind {
        /** Reads metadata (lists, inspect, version). */
        READ,
        /** Changes state (create, start, delete, tag). */
        WRITE,
        /** Reads data out of a container (logs, attach, exec, archive, export, env). */
        EXFILTRATION,
    }

    private static final Map<String, Kind> ALL = new LinkedHashMap<>();

    static {
        read("system.ping", "system.version", "system.info", "system.df", "system.events");
        read("image.list", "image.inspect", "image.history");
        write("image.load", "image.create", "image.prune", "image.tag", "image.delete", "image.build");
        exfiltration("image.save", "image.push");
        // registries reached on the caller's behalf: a login checks credentials, the others read a registry's metadata
        read("registry.login", "image.distribution", "image.search");
        read("volume.list", "volume.inspect");
        write("volume.create", "volume.prune", "volume.delete");
        read("container.list", "container.inspect", "container.wait", "container.top", "container.changes", "container.stats");
        write("container.create", "container.start", "container.stop", "container.kill", "container.restart",
                "container.resize", "container.prune", "container.pause", "container.unpause", "container.rename",
                "container.delete", "container.update", "container.archive.put", "container.commit");
        exfiltration("container.logs", "container.attach", "container.exec", "container.export",
                "container.archive.stat", "container.archive.get", "container.inspect.env");
        exfiltration("exec.start");
        write("exec.resize");
        read("exec.inspect");
        read("network.list", "network.inspect");
        write("network.create", "network.prune", "network.connect", "network.disconnect", "network.delete");
        // swarm mode: answered by an upstream swarm manager in upstream mode; the embedded engine answers 503 (not in a
        // swarm), as dockerd outside a swarm
        read("swarm.inspect");
        write("swarm.manage");
        read("node.list", "node.inspect");
        write("node.update", "node.delete");
        read("service.list", "service.inspect");
        write("service.create", "service.update", "service.delete");
        exfiltration("service.logs");
        read("task.list", "task.inspect");
        exfiltration("task.logs");
        read("secret.list", "secret.inspect");
        write("secret.create", "secret.update", "secret.delete");
        read("config.list");
        exfiltration("config.inspect");
        write("config.create", "config.update", "config.delete");
    }

    private Operations() {
    }

    private static void read(String... names) {
        for (String n : names) {
            ALL.put(n, Kind.READ);
        }
    }

    private static void write(String... names) {
        for (String n : names) {
            ALL.put(n, Kind.WRITE);
        }
    }

    private static void exfiltration(String... names) {
        for (String n : names) {
            ALL.put(n, Kind.EXFILTRATION);
        }
    }

    /** Every operation name, in catalog order. */
    public static Set<String> names() {
        return Collections.unmodifiableSet(ALL.keySet());
    }

    public static Kind kind(String operation) {
        Kind k = ALL.get(operation);
        if (k == null) {
            throw new IllegalArgumentException("unknown operation " + operation);
        }
        return k;
    }

    /**
     * The operations a pattern names: {@code *}, a prefix ending in {@code .*} ({@code container.*}), or one
     * name. Empty when it names nothing.
     */
    public static Set<String> expand(String pattern) {
        Set<String> out = new TreeSet<>();
        if (pattern.equals("*")) {
            out.addAll(ALL.keySet());
        } else if (pattern.endsWith(".*")) {
            String prefix = pattern.substring(0, pattern.length() - 1);
            for (String n : ALL.keySet()) {
                if (n.startsWith(prefix)) {
                    out.add(n);
                }
            }
        } else if (ALL.containsKey(pattern)) {
            out.add(pattern);
        }
        return out;
    }

    /** Operations of one kind, for documentation. */
    public static List<String> ofKind(Kind kind) {
        List<String> out = new ArrayList<>();
        ALL.forEach((n, k) -> {
            if (k == kind) {
                out.add(n);
            }
        });
        return out;
    }
}
