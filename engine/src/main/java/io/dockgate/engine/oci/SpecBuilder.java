package io.dockgate.engine.oci;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.container.ContainerRecord;
import io.dockgate.engine.container.ContainerSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The OCI runtime configuration (config.json) for a container, with Docker's isolation defaults:
 * pid, ipc, uts, mount and network namespaces; the 14 default capabilities (cap-add/cap-drop applied);
 * masked and read-only /proc paths; the default seccomp filter; the devices cgroup deny-all with the
 * standard allow list; cgroup v1 limits; hostname and the /etc files of the container.
 */
public final class SpecBuilder {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Docker's default capability set. */
    public static final List<String> DEFAULT_CAPS = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
            "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
            "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE");

    /** Every capability the kernel knows (up to CAP_CHECKPOINT_RESTORE). */
    public static final List<String> ALL_CAPS = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
            "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
            "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
            "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
            "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
            "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
            "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE");

    private static volatile List<String> available;

    /**
     * Every capability this daemon may grant: the kernel's list within the daemon's own bounding set (a
     * daemon confined by its parent cannot give more, and asking runc for more fails with EPERM).
     */
    public static List<String> availableCaps() {
        List<String> caps = available;
        if (caps == null) {
            long bounding = -1L;
            try {
                for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("CapBnd:")) {
                        bounding = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                    }
                }
            } catch (java.io.IOException | NumberFormatException e) {
                bounding = -1L;
            }
            List<String> list = new ArrayList<>();
            for (int i = 0; i < ALL_CAPS.size(); i++) {
                if ((bounding & (1L << i)) != 0) {
                    list.add(ALL_CAPS.get(i)); // ALL_CAPS is in the kernel's numbering
                }
            }
            caps = available = List.copyOf(list);
        }
        return caps;
    }

    static final List<String> MASKED = List.of("/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
            "/sys/firmware", "/sys/devices/virtual/powercap");
    static final List<String> READONLY = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");

    private SpecBuilder() {
    }

    /** The effective capability set after cap-add and cap-drop ("ALL" allowed in both, names with or without CAP_). */
    public static Set<String> capabilities(ContainerSpec.Host host) {
        if (host.privileged()) {
            return new LinkedHashSet<>(availableCaps());
        }
        Set<String> caps = new LinkedHashSet<>(DEFAULT_CAPS);
        for (String drop : host.capDrop() == null ? List.<String>of() : host.capDrop()) {
            String c = normalizeCap(drop);
            if (c.equals("CAP_ALL")) {
                caps.clear();
            } else {
                caps.remove(c);
            }
        }
        for (String add : host.capAdd() == null ? List.<String>of() : host.capAdd()) {
            String c = normalizeCap(add);
            if (c.equals("CAP_ALL")) {
                caps.addAll(availableCaps());
            } else {
                caps.add(c);
            }
        }
        return caps;
    }

    public static String normalizeCap(String name) {
        String upper = name.trim().toUpperCase(Locale.ROOT);
        String cap = upper.startsWith("CAP_") ? upper : "CAP_" + upper;
        if (!cap.equals("CAP_ALL") && !ALL_CAPS.contains(cap)) {
            throw EngineException.invalid("unknown capability: \"" + name + "\"");
        }
        return cap;
    }

    /** Docker's ulimit names and the kernel's resource names. */
    static final Map<String, String> RLIMITS = Map.ofEntries(Map.entry("core", "RLIMIT_CORE"), Map.entry("cpu", "RLIMIT_CPU"),
            Map.entry("data", "RLIMIT_DATA"), Map.entry("fsize", "RLIMIT_FSIZE"), Map.entry("locks", "RLIMIT_LOCKS"),
            Map.entry("memlock", "RLIMIT_MEMLOCK"), Map.entry("msgqueue", "RLIMIT_MSGQUEUE"), Map.entry("nice", "RLIMIT_NICE"),
            Map.entry("nofile", "RLIMIT_NOFILE"), Map.entry("nproc", "RLIMIT_NPROC"), Map.entry("rss", "RLIMIT_RSS"),
            Map.entry("rtprio", "RLIMIT_RTPRIO"), Map.entry("rttime", "RLIMIT_RTTIME"), Map.entry("sigpending", "RLIMIT_SIGPENDING"),
            Map.entry("stack", "RLIMIT_STACK"), Map.entry("as", "RLIMIT_AS"));

    /** Where --init's binary appears in the container, as dockerd's docker-init. */
    public static final String INIT_PATH = "/sbin/docker-init";

    /**
     * The init binary for --init: Debian's statically linked tini (it must run in any image, libc or not);
     * {@code dockgate.init} overrides the path.
     */
    public static Path initBinary() {
        Path p = Path.of(System.getProperty("dockgate.init", "/usr/bin/tini-static"));
        if (!java.nio.file.Files.isExecutable(p)) {
            throw EngineException.invalid("--init needs " + p + ": install Debian's tini package (the setup script does)");
        }
        return p;
    }

    /** The IPC sysctls a container's own namespace holds (Docker's list); fs.mqueue.* and net.* are namespaced too. */
    private static final java.util.Set<String> IPC_SYSCTLS = java.util.Set.of("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
            "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced");

    /**
     * Refuses a sysctl that is not namespaced (it would change the host), with dockerd's wording; net.*
     * only in a network namespace of the container's own.
     */
    public static void validateSysctls(Map<String, String> sysctls, String networkMode) {
        for (String key : sysctls.keySet()) {
            boolean net = key.startsWith("net.");
            if (!(IPC_SYSCTLS.contains(key) || key.startsWith("fs.mqueue.") || net)) {
                throw EngineException.invalid("sysctl '" + key + "' is not whitelisted");
            }
            if (net && "host".equals(networkMode)) {
                throw EngineException.invalid("sysctl '" + key + "' not allowed in host network namespace");
            }
        }
    }

    /**
     * The mount points the engine (and runc, for its kernel file systems) puts into every container's
     * writable layer: not the user's changes, so docker diff leaves them out.
     */
    public static final java.util.Set<String> ENGINE_MOUNT_POINTS = java.util.Set.of("/etc/hostname", "/etc/hosts",
            "/etc/resolv.conf", "/proc", "/dev", "/sys", "/.dockerenv");

    /**
     * The container's config.json. {@code hostPaths} gives the host directory behind each bind mount or
     * named volume of the spec.
     */
    public static ObjectNode build(ContainerRecord c, Path rootfs, Path etcDir, UserResolver.User user,
                                   java.util.function.Function<ContainerSpec.Mount, String> hostPaths,
                                   Map<String, String> joinedNamespaces) {
        ContainerSpec spec = c.spec();
        ContainerSpec.Host host = spec.host();
        Set<String> caps = capabilities(host);
        ObjectNode root = JSON.createObjectNode();
        root.put("ociVersion", "1.0.2");

        ObjectNode process = root.putObject("process");
        process.put("terminal", spec.tty());
        if (spec.tty() && host.consoleHeight() > 0 && host.consoleWidth() > 0) {
            process.putObject("consoleSize").put("height", host.consoleHeight()).put("width", host.consoleWidth());
        }
        putUser(process, user);
        ArrayNode args = process.putArray("args");
        if (host.init()) {
            args.add(INIT_PATH).add("--"); // --init: tini reaps zombies and forwards signals, as dockerd's docker-init
        }
        args.add(c.path());
        c.args().forEach(args::add);
        ArrayNode env = process.putArray("env");
        spec.env().forEach(env::add);
        process.put("cwd", spec.workingDir() == null || spec.workingDir().isEmpty() ? "/" : spec.workingDir());
        ObjectNode capabilities = process.putObject("capabilities");
        for (String set : List.of("bounding", "effective", "permitted")) {
            ArrayNode a = capabilities.putArray(set);
            caps.forEach(a::add);
        }
        capabilities.putArray("inheritable");
        capabilities.putArray("ambient");
        process.put("noNewPrivileges", host.noNewPrivileges());
        if (host.oomScoreAdj() != 0) {
            process.put("oomScoreAdj", host.oomScoreAdj());
        }
        if (!host.ulimitsOrEmpty().isEmpty()) {
            ArrayNode rlimits = process.putArray("rlimits");
            for (ContainerSpec.Ulimit ul : host.ulimitsOrEmpty()) {
                String type = RLIMITS.get(ul.name());
                if (type == null) {
                    throw EngineException.invalid("invalid ulimit type: " + ul.name());
                }
                rlimits.addObject().put("type", type).put("hard", ul.hard()).put("soft", ul.soft());
            }
        }

        root.putObject("root").put("path", rootfs.toString()).put("readonly", host.readonlyRootfs());
        boolean hostNetwork = "host".equals(host.networkMode());
        boolean ownUts = !hostNetwork && host.namespaceMode("uts").isEmpty();
        if (ownUts) {
            root.put("hostname", spec.hostname());
        }

        ArrayNode mounts = root.putArray("mounts");
        mount(mounts, "/proc", "proc", "proc", "nosuid", "noexec", "nodev");
        mount(mounts, "/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k");
        mount(mounts, "/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5");
        mount(mounts, "/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro");
        mount(mounts, "/sys/fs/cgroup", "cgroup", "cgroup", "ro", "nosuid", "noexec", "nodev");
        mount(mounts, "/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev");
        mount(mounts, "/dev/shm", "shm", "tmpfs", "nosuid", "noexec", "nodev", "mode=1777", "size=" + host.shmSizeOrDefault());
        for (String f : List.of("hostname", "hosts", "resolv.conf")) {
            if (hostNetwork && f.equals("hostname")) {
                continue;
            }
            ObjectNode m = mounts.addObject();
            m.put("destination", "/etc/" + f);
            m.put("type", "bind");
            m.put("source", etcDir.resolve(f).toString());
            m.putArray("options").add("rbind").add("rprivate");
        }
        if (host.tmpfs() != null) {
            for (Map.Entry<String, String> t : host.tmpfs().entrySet()) {
                if (!t.getKey().startsWith("/")) {
                    throw EngineException.invalid("invalid tmpfs mount point " + t.getKey() + ": must be an absolute path");
                }
                List<String> options = new ArrayList<>(List.of("noexec", "nosuid", "nodev"));
                if (t.getValue() != null && !t.getValue().isEmpty()) {
                    for (String o : t.getValue().split(",")) {
                        if (!o.matches("[a-z]+(=[0-9a-zA-Z]+)?")) {
                            throw EngineException.invalid("invalid tmpfs option " + o);
                        }
                        options.remove(o.replace("exec", "noexec").replace("suid", "nosuid").replace("dev", "nodev"));
                        options.add(o);
                    }
                }
                mount(mounts, t.getKey(), "tmpfs", "tmpfs", options.toArray(new String[0]));
            }
        }

        if (host.init()) {
            ObjectNode m = mounts.addObject();
            m.put("destination", INIT_PATH).put("type", "bind").put("source", initBinary().toString());
            m.putArray("options").add("bind").add("ro");
        }
        List<ContainerSpec.Mount> userMounts = new ArrayList<>(host.mountsOrEmpty());
        // parents before children, as Docker sorts them
        userMounts.sort(java.util.Comparator.comparingInt(m -> Path.of(m.target()).normalize().getNameCount()));
        for (ContainerSpec.Mount m : userMounts) {
            ObjectNode o = mounts.addObject();
            o.put("destination", m.target());
            o.put("type", "bind");
            o.put("source", hostPaths.apply(m));
            ArrayNode options = o.putArray("options").add("rbind").add("rprivate");
            if (m.readOnly()) {
                options.add("ro");
            }
        }

        ObjectNode linux = root.putObject("linux");
        ArrayNode namespaces = linux.putArray("namespaces");
        // pid, ipc, uts: the container's own, the host's (left out), or another container's (joined by path)
        for (String ns : List.of("pid", "ipc", "uts")) {
            String mode = host.namespaceMode(ns);
            if (ns.equals("uts") && !ownUts && mode.isEmpty() || mode.equals("host")) {
                continue;
            }
            ObjectNode n = namespaces.addObject().put("type", ns);
            if (mode.startsWith("container:")) {
                n.put("path", joinedNamespaces.get(ns));
            }
        }
        namespaces.addObject().put("type", "mount");
        if (!hostNetwork) {
            ObjectNode n = namespaces.addObject().put("type", "network");
            if (joinedNamespaces.containsKey("network")) {
                n.put("path", joinedNamespaces.get("network")); // the namespace the daemon set up (bridge networks)
            }
        }
        if (!host.devicesOrEmpty().isEmpty()) {
            ArrayNode nodes = linux.putArray("devices");
            for (ContainerSpec.Device d : host.devicesOrEmpty()) {
                HostDevice hd = HostDevice.of(d.pathOnHost());
                nodes.addObject().put("path", d.pathInContainer()).put("type", hd.type()).put("major", hd.major())
                        .put("minor", hd.minor()).put("fileMode", hd.mode()).put("uid", 0).put("gid", 0);
            }
        }
        if (!host.privileged()) {
            ArrayNode masked = linux.putArray("maskedPaths");
            MASKED.forEach(masked::add);
            ArrayNode readonly = linux.putArray("readonlyPaths");
            READONLY.forEach(readonly::add);
            linux.set("seccomp", SeccompProfile.forCapabilities(caps));
        }
        if (!host.sysctlsOrEmpty().isEmpty()) {
            ObjectNode sysctl = linux.putObject("sysctl");
            host.sysctlsOrEmpty().forEach(sysctl::put);
        }
        linux.put("cgroupsPath", host.cgroupPath(c.id()));
        ObjectNode resources = linux.putObject("resources");
        ArrayNode devices = resources.putArray("devices");
        if (host.privileged()) {
            devices.addObject().put("allow", true).put("access", "rwm");
        } else {
            devices.addObject().put("allow", false).put("access", "rwm");
            device(devices, "c", null, null, "m");
            device(devices, "b", null, null, "m");
            device(devices, "c", 1, 3, "rwm");
            device(devices, "c", 1, 5, "rwm");
            device(devices, "c", 1, 7, "rwm");
            device(devices, "c", 1, 8, "rwm");
            device(devices, "c", 1, 9, "rwm");
            device(devices, "c", 5, 0, "rwm");
            device(devices, "c", 5, 1, "rwm");
            device(devices, "c", 5, 2, "rwm");
            device(devices, "c", 136, null, "rwm");
            device(devices, "c", 10, 200, "rwm");
        }
        if (!host.privileged()) {
            for (ContainerSpec.Device d : host.devicesOrEmpty()) {
                HostDevice hd = HostDevice.of(d.pathOnHost());
                device(devices, hd.type(), hd.major(), hd.minor(), d.permissions());
            }
            for (String rule : host.deviceCgroupRulesOrEmpty()) {
                HostDevice.Rule r = HostDevice.rule(rule);
                device(devices, r.type(), r.major(), r.minor(), r.access());
            }
        }
        if (host.memory() > 0 || host.memoryReservation() > 0 || host.memorySwappiness() != null || host.oomKillDisable()) {
            ObjectNode memory = resources.putObject("memory");
            if (host.memory() > 0) {
                memory.put("limit", host.memory());
                memory.put("swap", swapLimit(host));
            }
            if (host.memoryReservation() > 0) {
                memory.put("reservation", host.memoryReservation());
            }
            if (host.memorySwappiness() != null && host.memorySwappiness() >= 0) {
                memory.put("swappiness", host.memorySwappiness());
            }
            if (host.oomKillDisable()) {
                memory.put("disableOOMKiller", true);
            }
        }
        if (host.cpuShares() > 0 || host.cpuQuota() != 0 || host.cpuPeriod() > 0 || (host.cpusetCpus() != null && !host.cpusetCpus().isEmpty())) {
            ObjectNode cpu = resources.putObject("cpu");
            if (host.cpuShares() > 0) {
                cpu.put("shares", host.cpuShares());
            }
            if (host.cpuQuota() != 0) {
                cpu.put("quota", host.cpuQuota());
            }
            if (host.cpuPeriod() > 0) {
                cpu.put("period", host.cpuPeriod());
            }
            if (host.cpusetCpus() != null && !host.cpusetCpus().isEmpty()) {
                cpu.put("cpus", host.cpusetCpus());
            }
        }
        if (host.pidsLimit() > 0) {
            resources.putObject("pids").put("limit", host.pidsLimit());
        }
        return root;
    }

    /** The process's user: uid, gid and supplementary groups. */
    public static void putUser(ObjectNode process, UserResolver.User user) {
        ObjectNode u = process.putObject("user");
        u.put("uid", user.uid());
        u.put("gid", user.gid());
        if (!user.additionalGids().isEmpty()) {
            ArrayNode g = u.putArray("additionalGids");
            user.additionalGids().forEach(g::add);
        }
    }

    /** Every capability the daemon holds in each set (privileged containers and execs). */
    public static void putAllCapabilities(ObjectNode process) {
        ObjectNode caps = process.putObject("capabilities");
        for (String set : List.of("bounding", "effective", "permitted")) {
            ArrayNode a = caps.putArray(set);
            availableCaps().forEach(a::add);
        }
        caps.putArray("inheritable");
        caps.putArray("ambient");
    }

    /** memory+swap as Docker sets it: twice the memory limit by default, -1 for unlimited swap. */
    public static long swapLimit(ContainerSpec.Host host) {
        if (host.memorySwap() != 0) {
            return host.memorySwap() < 0 ? -1 : host.memorySwap();
        }
        return host.memory() * 2;
    }

    private static void mount(ArrayNode mounts, String destination, String source, String type, String... options) {
        ObjectNode m = mounts.addObject();
        m.put("destination", destination);
        m.put("type", type);
        m.put("source", source);
        ArrayNode o = m.putArray("options");
        for (String option : options) {
            o.add(option);
        }
    }

    private static void device(ArrayNode devices, String type, Integer major, Integer minor, String access) {
        ObjectNode d = devices.addObject();
        d.put("allow", true);
        d.put("type", type);
        if (major != null) {
            d.put("major", major);
        }
        if (minor != null) {
            d.put("minor", minor);
        }
        d.put("access", access);
    }
}
