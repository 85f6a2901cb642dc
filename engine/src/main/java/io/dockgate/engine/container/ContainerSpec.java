package io.dockgate.engine.container;

import java.util.List;
import java.util.Map;

/**
 * What a container is created with: the subset of Docker's Config and HostConfig the engine implements.
 * The gateway translates Docker's JSON into this and refuses fields it cannot honour.
 */
public record ContainerSpec(
        String image,
        List<String> entrypoint,
        List<String> cmd,
        List<String> env,
        String workingDir,
        String user,
        String hostname,
        Map<String, String> labels,
        boolean tty,
        boolean openStdin,
        boolean stdinOnce,
        String stopSignal,
        Integer stopTimeout,
        Host host,
        Shown shown,
        Healthcheck healthcheck) {
    /**
     * What the client gave that changes nothing here and is shown by inspect as given: the attach flags
     * (the CLI attaches with a request of its own) and Config.Volumes (its anonymous volumes are mounts).
     */
    public record Shown(boolean attachStdin, boolean attachStdout, boolean attachStderr, List<String> volumes) {
        public static final Shown NONE = new Shown(false, false, false, List.of());
    }

    public Shown shownOrNone() {
        return shown == null ? Shown.NONE : shown;
    }

    /** The same spec with another environment (what a start adds: legacy links' variables). */
    public ContainerSpec withEnv(List<String> newEnv) {
        return new ContainerSpec(image, entrypoint, cmd, List.copyOf(newEnv), workingDir, user, hostname, labels, tty, openStdin, stdinOnce,
                stopSignal, stopTimeout, host, shown, healthcheck);
    }

    /** The same spec with another hostname (a container in another's network namespace has that one's). */
    public ContainerSpec withHostname(String newHostname) {
        return new ContainerSpec(image, entrypoint, cmd, env, workingDir, user, newHostname, labels, tty, openStdin, stdinOnce,
                stopSignal, stopTimeout, host, shown, healthcheck);
    }

    /** The same spec with another host part (docker update). */
    public ContainerSpec withHost(Host newHost) {
        return new ContainerSpec(image, entrypoint, cmd, env, workingDir, user, hostname, labels, tty, openStdin, stdinOnce,
                stopSignal, stopTimeout, newHost, shown, healthcheck);
    }

    /** The label recording who created the container (the gateway stamps it; images cannot carry it). */
    public static final String OWNER_LABEL = "io.dockgate.owner";

    /**
     * The labels a client sees (inspect, lists, label filters, events): without the owner label, which is
     * dockgate's own record, so that clients read back exactly the labels they set.
     */
    public static Map<String, String> visibleLabels(Map<String, String> labels) {
        if (labels == null || !labels.containsKey(OWNER_LABEL)) {
            return labels;
        }
        Map<String, String> visible = new java.util.LinkedHashMap<>(labels);
        visible.remove(OWNER_LABEL);
        return visible;
    }

    /** The same spec with other labels. */
    public ContainerSpec withLabels(Map<String, String> newLabels) {
        return new ContainerSpec(image, entrypoint, cmd, env, workingDir, user, hostname, java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(newLabels)), tty, openStdin,
                stdinOnce, stopSignal, stopTimeout, host, shown, healthcheck);
    }

    public static Builder builder(String image) {
        return new Builder(image);
    }

    /** Builds a spec field by field (unset fields take the image's or Docker's defaults). */
    public static final class Builder {
        private final String image;
        private List<String> entrypoint;
        private List<String> cmd;
        private List<String> env = List.of();
        private String workingDir;
        private String user;
        private String hostname;
        private Map<String, String> labels = Map.of();
        private boolean tty;
        private boolean openStdin;
        private boolean stdinOnce;
        private String stopSignal;
        private Integer stopTimeout;
        private Host host = Host.builder().build();
        private Shown shown = Shown.NONE;
        private Healthcheck healthcheck;

        private Builder(String image) {
            this.image = image;
        }

        public Builder entrypoint(List<String> v) { entrypoint = v; return this; }
        public Builder cmd(List<String> v) { cmd = v; return this; }
        public Builder cmd(String... v) { cmd = List.of(v); return this; }
        public Builder env(List<String> v) { env = v; return this; }
        public Builder workingDir(String v) { workingDir = v; return this; }
        public Builder user(String v) { user = v; return this; }
        public Builder hostname(String v) { hostname = v; return this; }
        public Builder labels(Map<String, String> v) { labels = v; return this; }
        public Builder tty(boolean v) { tty = v; return this; }
        public Builder openStdin(boolean v) { openStdin = v; return this; }
        public Builder stdinOnce(boolean v) { stdinOnce = v; return this; }
        public Builder stopSignal(String v) { stopSignal = v; return this; }
        public Builder stopTimeout(Integer v) { stopTimeout = v; return this; }
        public Builder host(Host v) { host = v; return this; }
        public Builder shown(Shown v) { shown = v; return this; }
        public Builder healthcheck(Healthcheck v) { healthcheck = v; return this; }

        public ContainerSpec build() {
            return new ContainerSpec(image, entrypoint, cmd, env, workingDir, user, hostname, labels, tty, openStdin, stdinOnce,
                    stopSignal, stopTimeout, host, shown, healthcheck);
        }
    }

    /** HostConfig: isolation, resources, restart and cleanup. */
    public record Host(
            String networkMode,
            boolean privileged,
            boolean readonlyRootfs,
            List<String> capAdd,
            List<String> capDrop,
            Map<String, String> tmpfs,
            long memory,
            long memorySwap,
            long cpuShares,
            long cpuQuota,
            long cpuPeriod,
            long pidsLimit,
            String cpusetCpus,
            boolean autoRemove,
            RestartPolicy restartPolicy,
            List<Mount> mounts,
            List<Ulimit> ulimits,
            boolean noNewPrivileges,
            LogConfig log,
            int consoleHeight,
            int consoleWidth,
            long shmSize,
            int oomScoreAdj,
            boolean oomKillDisable,
            Long memorySwappiness,
            long memoryReservation,
            List<String> groupAdd,
            Map<String, String> sysctls,
            List<Device> devices,
            List<String> deviceCgroupRules,
            String pidMode,
            String ipcMode,
            String utsMode,
            boolean init,
            List<String> volumesFrom,
            String cgroupParent,
            long nanoCpus,
            List<String> binds,
            Net net) {
        /** /dev/shm's size when none is given, as Docker's. */
        public static final long DEFAULT_SHM_SIZE = 64L << 20;

        public static HostBuilder builder() {
            return new HostBuilder();
        }

        public HostBuilder toBuilder() {
            HostBuilder b = new HostBuilder();
            b.networkMode = networkMode; b.privileged = privileged; b.readonlyRootfs = readonlyRootfs; b.capAdd = capAdd;
            b.capDrop = capDrop; b.tmpfs = tmpfs; b.memory = memory; b.memorySwap = memorySwap; b.cpuShares = cpuShares;
            b.cpuQuota = cpuQuota; b.cpuPeriod = cpuPeriod; b.pidsLimit = pidsLimit; b.cpusetCpus = cpusetCpus;
            b.autoRemove = autoRemove; b.restartPolicy = restartPolicy; b.mounts = mounts; b.ulimits = ulimits;
            b.noNewPrivileges = noNewPrivileges; b.log = log; b.consoleHeight = consoleHeight; b.consoleWidth = consoleWidth;
            b.shmSize = shmSize; b.oomScoreAdj = oomScoreAdj; b.oomKillDisable = oomKillDisable; b.memorySwappiness = memorySwappiness;
            b.memoryReservation = memoryReservation; b.groupAdd = groupAdd; b.sysctls = sysctls;
            b.devices = devices; b.deviceCgroupRules = deviceCgroupRules; b.pidMode = pidMode; b.ipcMode = ipcMode; b.utsMode = utsMode;
            b.init = init; b.volumesFrom = volumesFrom; b.cgroupParent = cgroupParent;
            b.nanoCpus = nanoCpus; b.binds = binds; b.net = net;
            return b;
        }

        /** The kernel's CFS period when none is given: 100 ms. */
        public static final long DEFAULT_CPU_PERIOD = 100_000;

        /**
         * The CPU limit in billionths of a CPU, however it was given (NanoCpus, or CpuQuota over CpuPeriod,
         * the kernel's 100 ms when no period is given); 0 when unlimited. The one formula the policy's
         * {@code cpus} limit, create and update share.
         */
        public long effectiveNanoCpus() {
            if (nanoCpus > 0) {
                return nanoCpus;
            }
            if (cpuQuota <= 0) {
                return 0;
            }
            long period = cpuPeriod > 0 ? cpuPeriod : DEFAULT_CPU_PERIOD;
            return java.math.BigInteger.valueOf(cpuQuota).multiply(java.math.BigInteger.valueOf(1_000_000_000L))
                    .divide(java.math.BigInteger.valueOf(period)).min(java.math.BigInteger.valueOf(Long.MAX_VALUE)).longValue();
        }

        /**
         * This host configuration after a docker update: every resource the update gives (non-zero) replaces
         * this one's, the restart policy when given; the rest stays. What the engine applies and the policy
         * judges.
         */
        public Host updatedBy(Host changes) {
            HostBuilder b = toBuilder();
            if (changes.memory() != 0) {
                b.memory(changes.memory());
            }
            if (changes.memorySwap() != 0) {
                b.memorySwap(changes.memorySwap());
            } else if (changes.memory() != 0 && memorySwap > 0 && memorySwap < changes.memory()) {
                throw io.dockgate.engine.EngineException.invalid("Memory limit should be smaller than already set memoryswap limit,"
                        + " update the memoryswap at the same time");
            }
            if (changes.cpuShares() != 0) {
                b.cpuShares(changes.cpuShares());
            }
            if (changes.cpuQuota() != 0) {
                b.cpuQuota(changes.cpuQuota()).nanoCpus(changes.nanoCpus()); // a quota given as such shows no NanoCpus
            }
            if (changes.cpuPeriod() != 0) {
                b.cpuPeriod(changes.cpuPeriod());
            }
            if (changes.pidsLimit() != 0) {
                b.pidsLimit(changes.pidsLimit());
            }
            if (changes.cpusetCpus() != null && !changes.cpusetCpus().isEmpty()) {
                b.cpusetCpus(changes.cpusetCpus());
            }
            if (changes.restartPolicy() != null) {
                b.restartPolicy(changes.restartPolicy());
            }
            return b.build();
        }

        /** Whether an update changes the CPU limit (quota, period or NanoCpus). */
        public boolean changesCpuLimit() {
            return cpuQuota != 0 || cpuPeriod != 0 || nanoCpus != 0;
        }

        /** The size of /dev/shm in bytes (Docker's 64 MiB unless given). */
        public long shmSizeOrDefault() {
            return shmSize > 0 ? shmSize : DEFAULT_SHM_SIZE;
        }

        public List<String> groupAddOrEmpty() {
            return groupAdd == null ? List.of() : groupAdd;
        }

        public Map<String, String> sysctlsOrEmpty() {
            return sysctls == null ? Map.of() : sysctls;
        }

        public List<String> volumesFromOrEmpty() {
            return volumesFrom == null ? List.of() : volumesFrom;
        }

        /** The container's cgroup path below each controller: /dockgate/ID, or /PARENT/ID with a CgroupParent. */
        public String cgroupPath(String id) {
            String parent = cgroupParent == null || cgroupParent.isEmpty() ? "dockgate" : cgroupParent.replaceAll("^/+|/+$", "");
            return "/" + parent + "/" + id;
        }

        public List<Device> devicesOrEmpty() {
            return devices == null ? List.of() : devices;
        }

        public List<String> deviceCgroupRulesOrEmpty() {
            return deviceCgroupRules == null ? List.of() : deviceCgroupRules;
        }

        /** The namespace mode for pid, ipc or uts: "" (the container's own), "host", or "container:ID". */
        public String namespaceMode(String type) {
            String mode = switch (type) {
                case "pid" -> pidMode;
                case "ipc" -> ipcMode;
                case "uts" -> utsMode;
                default -> throw new IllegalArgumentException(type);
            };
            return mode == null || mode.equals("private") || mode.equals("shareable") ? "" : mode;
        }

        public List<Mount> mountsOrEmpty() {
            return mounts == null ? List.of() : mounts;
        }

        public List<Ulimit> ulimitsOrEmpty() {
            return ulimits == null ? List.of() : ulimits;
        }

        public LogConfig logOrDefault() {
            return log == null ? LogConfig.DEFAULT : log;
        }
    }

    /**
     * How a container on bridge networks is connected (when its network mode is a bridge network): its
     * networks and what it asked for on each (the mode's first; more given at create from API 1.44, or
     * connected since), the ports to publish, whether every exposed port is published (-P), the ports it
     * exposes (Config.ExposedPorts, "80/tcp"), whether the mode's network was disconnected, name
     * resolution, and its legacy links ({@code --link}).
     */
    public record Net(List<io.dockgate.engine.net.EndpointRequest> endpoints, List<io.dockgate.engine.net.PortBinding> ports,
                      boolean publishAll, List<String> exposed, boolean modeDisconnected, Resolution resolution, List<Link> links) {
        public static final Net NONE = new Net(List.of(), List.of(), false, List.of());

        public Net(List<io.dockgate.engine.net.EndpointRequest> endpoints, List<io.dockgate.engine.net.PortBinding> ports,
                   boolean publishAll, List<String> exposed) {
            this(endpoints, ports, publishAll, exposed, false, Resolution.NONE, List.of());
        }

        /** The same, with other endpoints and the network mode's network disconnected or not (network connect, disconnect). */
        public Net withEndpoints(List<io.dockgate.engine.net.EndpointRequest> other, boolean disconnected) {
            return new Net(other, ports, publishAll, exposed, disconnected, resolution, links);
        }

        public Net withExposed(List<String> all) {
            return new Net(endpoints, ports, publishAll, all, modeDisconnected, resolution, links);
        }

        public Net withResolution(Resolution r) {
            return new Net(endpoints, ports, publishAll, exposed, modeDisconnected, r, links);
        }

        public Net withLinks(List<Link> l) {
            return new Net(endpoints, ports, publishAll, exposed, modeDisconnected, resolution, l);
        }

        public Resolution resolutionOrNone() {
            return resolution == null ? Resolution.NONE : resolution;
        }

        public List<io.dockgate.engine.net.EndpointRequest> endpointsOrEmpty() {
            return endpoints == null ? List.of() : endpoints;
        }

        public List<io.dockgate.engine.net.PortBinding> portsOrEmpty() {
            return ports == null ? List.of() : ports;
        }

        public List<String> exposedOrEmpty() {
            return exposed == null ? List.of() : exposed;
        }

        public List<Link> linksOrEmpty() {
            return links == null ? List.of() : links;
        }
    }

    /**
     * A legacy link ({@code --link container:alias}): the linked container (by name or ID as given; by full
     * ID once created, so that a rename keeps the link) and the alias the linking container knows it by.
     */
    public record Link(String container, String alias) {
        /**
         * "name:alias" or "name" (the alias is then the name), as dockerd parses them; "/name:/parent/alias"
         * (the form inspect shows) too. The alias becomes a host name and environment names: letters, digits,
         * '_', '.', '-' only.
         */
        public static Link parse(String given) {
            String s = given == null ? "" : given.trim();
            String[] parts = s.split(":", -1);
            if (s.isEmpty() || parts.length > 2) {
                throw io.dockgate.engine.EngineException.invalid(s.isEmpty() ? "empty string specified for links" : "bad format for links: " + given);
            }
            String name = parts[0];
            String alias = parts.length == 1 ? name : parts[1];
            if (name.startsWith("/")) {
                name = name.substring(1);
                alias = alias.substring(alias.lastIndexOf('/') + 1);
            }
            if (name.isEmpty() || !alias.matches("[a-zA-Z0-9][a-zA-Z0-9_.-]*")) {
                throw io.dockgate.engine.EngineException.invalid("invalid link: \"" + given + "\" (container:alias; the alias of letters, digits, '_', '.', '-')");
            }
            return new Link(name, alias);
        }
    }

    /**
     * Name resolution asked for at create: resolvers (--dns), search domains, resolver options, and extra
     * /etc/hosts entries ("name:address", the address may be "host-gateway").
     */
    public record Resolution(List<String> dns, List<String> search, List<String> options, List<String> extraHosts) {
        public static final Resolution NONE = new Resolution(List.of(), List.of(), List.of(), List.of());
    }

    public Net netOrNone() {
        return host.net() == null ? Net.NONE : host.net();
    }

    /** Builds a {@link Host} field by field; unset fields are Docker's defaults. */
    public static final class HostBuilder {
        private String networkMode = "none";
        private boolean privileged;
        private boolean readonlyRootfs;
        private List<String> capAdd = List.of();
        private List<String> capDrop = List.of();
        private Map<String, String> tmpfs = Map.of();
        private long memory;
        private long memorySwap;
        private long cpuShares;
        private long cpuQuota;
        private long cpuPeriod;
        private long pidsLimit;
        private String cpusetCpus = "";
        private boolean autoRemove;
        private RestartPolicy restartPolicy = RestartPolicy.NO;
        private List<Mount> mounts = List.of();
        private List<Ulimit> ulimits = List.of();
        private boolean noNewPrivileges;
        private LogConfig log = LogConfig.DEFAULT;
        private int consoleHeight;
        private int consoleWidth;
        private long shmSize;
        private int oomScoreAdj;
        private boolean oomKillDisable;
        private Long memorySwappiness;
        private long memoryReservation;
        private List<String> groupAdd = List.of();
        private Map<String, String> sysctls = Map.of();
        private List<Device> devices = List.of();
        private List<String> deviceCgroupRules = List.of();
        private String pidMode = "";
        private String ipcMode = "";
        private String utsMode = "";
        private boolean init;
        private List<String> volumesFrom = List.of();
        private String cgroupParent = "";
        private long nanoCpus;
        private List<String> binds = List.of();
        private Net net = Net.NONE;

        public HostBuilder networkMode(String v) { networkMode = v; return this; }
        public HostBuilder privileged(boolean v) { privileged = v; return this; }
        public HostBuilder readonlyRootfs(boolean v) { readonlyRootfs = v; return this; }
        public HostBuilder capAdd(List<String> v) { capAdd = v; return this; }
        public HostBuilder capDrop(List<String> v) { capDrop = v; return this; }
        public HostBuilder tmpfs(Map<String, String> v) { tmpfs = v; return this; }
        public HostBuilder memory(long v) { memory = v; return this; }
        public HostBuilder memorySwap(long v) { memorySwap = v; return this; }
        public HostBuilder cpuShares(long v) { cpuShares = v; return this; }
        public HostBuilder cpuQuota(long v) { cpuQuota = v; return this; }
        public HostBuilder cpuPeriod(long v) { cpuPeriod = v; return this; }
        public HostBuilder pidsLimit(long v) { pidsLimit = v; return this; }
        public HostBuilder cpusetCpus(String v) { cpusetCpus = v; return this; }
        /** A CPU limit given as NanoCpus: Docker's quota over the default period (at least 1 ms), NanoCpus shown. */
        public HostBuilder cpus(long nanos) {
            cpuPeriod = Host.DEFAULT_CPU_PERIOD;
            cpuQuota = Math.max(1000, nanos / 10_000);
            nanoCpus = nanos;
            return this;
        }
        public HostBuilder autoRemove(boolean v) { autoRemove = v; return this; }
        public HostBuilder restartPolicy(RestartPolicy v) { restartPolicy = v; return this; }
        public HostBuilder mounts(List<Mount> v) { mounts = v; return this; }
        public HostBuilder ulimits(List<Ulimit> v) { ulimits = v; return this; }
        public HostBuilder noNewPrivileges(boolean v) { noNewPrivileges = v; return this; }
        public HostBuilder log(LogConfig v) { log = v; return this; }
        public HostBuilder consoleSize(int height, int width) { consoleHeight = height; consoleWidth = width; return this; }
        public HostBuilder shmSize(long v) { shmSize = v; return this; }
        public HostBuilder oomScoreAdj(int v) { oomScoreAdj = v; return this; }
        public HostBuilder oomKillDisable(boolean v) { oomKillDisable = v; return this; }
        public HostBuilder memorySwappiness(Long v) { memorySwappiness = v; return this; }
        public HostBuilder memoryReservation(long v) { memoryReservation = v; return this; }
        public HostBuilder groupAdd(List<String> v) { groupAdd = v; return this; }
        public HostBuilder sysctls(Map<String, String> v) { sysctls = v; return this; }
        public HostBuilder devices(List<Device> v) { devices = v; return this; }
        public HostBuilder deviceCgroupRules(List<String> v) { deviceCgroupRules = v; return this; }
        public HostBuilder pidMode(String v) { pidMode = v; return this; }
        public HostBuilder ipcMode(String v) { ipcMode = v; return this; }
        public HostBuilder utsMode(String v) { utsMode = v; return this; }
        public HostBuilder init(boolean v) { init = v; return this; }
        public HostBuilder volumesFrom(List<String> v) { volumesFrom = v; return this; }
        public HostBuilder cgroupParent(String v) { cgroupParent = v; return this; }
        /** NanoCpus as the client gave them (shown by inspect; the limit itself is CpuQuota over CpuPeriod). */
        public HostBuilder nanoCpus(long v) { nanoCpus = v; return this; }
        /** Binds as the client wrote them (shown by inspect; the mounts themselves are in mounts). */
        public HostBuilder binds(List<String> v) { binds = v; return this; }
        public HostBuilder net(Net v) { net = v; return this; }

        public Host build() {
            return new Host(networkMode, privileged, readonlyRootfs, capAdd, capDrop, tmpfs, memory, memorySwap, cpuShares, cpuQuota,
                    cpuPeriod, pidsLimit, cpusetCpus, autoRemove, restartPolicy, mounts, ulimits, noNewPrivileges, log, consoleHeight,
                    consoleWidth, shmSize, oomScoreAdj, oomKillDisable, memorySwappiness, memoryReservation, groupAdd,
                    sysctls, devices, deviceCgroupRules, pidMode, ipcMode, utsMode,
                    init, volumesFrom, cgroupParent, nanoCpus, binds, net);
        }
    }

    /**
     * A bind mount (source is a host path) or a named volume (source is the volume's name; the engine
     * creates it with the local driver when missing).
     */
    public record Mount(String type, String source, String target, boolean readOnly) {
        public static final String BIND = "bind";
        public static final String VOLUME = "volume";
    }

    /** A host device made available in the container ({@code --device}): permissions a subset of "rwm". */
    public record Device(String pathOnHost, String pathInContainer, String permissions) {
    }

    /** A resource limit (RLIMIT_NOFILE and friends), by Docker's short name ("nofile"). */
    public record Ulimit(String name, long soft, long hard) {
    }

    /**
     * The log: Docker's driver name (json-file or local: both kept as conmon's k8s-file log here) and its
     * rotation: a file is rotated at maxSize bytes (0: never), maxFile files are kept.
     */
    public record LogConfig(long maxSize, int maxFile, String type) {
        public static final LogConfig DEFAULT = new LogConfig(0, 1, "json-file");

        public LogConfig(long maxSize, int maxFile) {
            this(maxSize, maxFile, "json-file");
        }

        public String typeOrDefault() {
            return type == null || type.isEmpty() ? "json-file" : type;
        }

        /** The "none" driver: nothing is kept, docker logs answers that it cannot read. */
        public boolean keepsNothing() {
            return "none".equals(type);
        }
    }

    /** Docker's restart policy: no, on-failure[:N], always, unless-stopped. */
    public record RestartPolicy(String name, int maximumRetryCount) {
        public static final RestartPolicy NO = new RestartPolicy("no", 0);
    }
}
