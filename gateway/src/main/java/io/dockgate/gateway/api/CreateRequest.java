package io.dockgate.gateway.api;

import io.dockgate.gateway.request.DockerJson;
import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.container.ContainerSpec;
import io.dockgate.engine.net.EndpointRequest;
import io.dockgate.engine.net.PortBinding;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Translates the body of {@code POST /containers/create} (Docker's Config with HostConfig) into the
 * engine's {@link ContainerSpec}. A field that matters for safety or behaviour and that the engine
 * cannot honour is refused with 400, never ignored.
 */
final class CreateRequest {
    /**
     * Docker's HostConfig fields that dockgate does not honour yet: a request that sets one (any value but
     * null, false, 0, "" or an empty list or map) is refused with 400 naming it, never silently dropped.
     * Fields Docker does not know are ignored, as dockerd ignores them.
     */
    private static final List<String> UNSUPPORTED_HOST_FIELDS = List.of(
            "DeviceRequests", "UsernsMode", "Cgroup",
            "BlkioWeight", "BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
            "BlkioDeviceWriteIOps", "KernelMemory", "KernelMemoryTCP", "CpuRealtimePeriod", "CpuRealtimeRuntime",
            "CpusetMems", "StorageOpt", "VolumeDriver", "Annotations", "CpuCount", "CpuPercent",
            "IOMaximumIOps", "IOMaximumBandwidth");
    /** Config fields not honoured yet, refused when set as above. */
    private static final List<String> UNSUPPORTED_CONFIG_FIELDS = List.of("Domainname", "OnBuild",
            "Shell", "ArgsEscaped");
    /** Endpoint settings of NetworkingConfig that need networks dockgate does not have yet. */
    private static final List<String> UNSUPPORTED_ENDPOINT_FIELDS = List.of("DriverOpts", "NetworkID", "EndpointID", "Gateway", "IPAddress", "IPPrefixLen", "IPv6Gateway", "GlobalIPv6Address",
            "GlobalIPv6PrefixLen", "DNSNames", "GwPriority");

    static final Set<String> ULIMITS = Set.of("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile",
            "nproc", "rss", "rtprio", "rttime", "sigpending", "stack", "as");
    private static final Set<String> PRIVATE_PROPAGATION = Set.of("", "private", "rprivate");

    private CreateRequest() {
    }

    static ContainerSpec toSpec(JsonNode body) {
        String image = DockerJson.text(body, "Image");
        if (image == null || image.isEmpty()) {
            throw EngineException.invalid("config.Image is required");
        }
        for (String f : UNSUPPORTED_CONFIG_FIELDS) {
            if (isSet(DockerJson.field(body, f))) {
                throw EngineException.invalid("Config." + f + " is not supported by dockgate yet");
            }
        }
        List<EndpointRequest> endpoints = networkingConfig(DockerJson.field(body, "NetworkingConfig"),
                DockerJson.text(body, "MacAddress"));
        JsonNode hc = DockerJson.field(body, "HostConfig");
        if (hc != null) {
            for (String f : UNSUPPORTED_HOST_FIELDS) {
                if (isSet(DockerJson.field(hc, f))) {
                    throw EngineException.invalid("HostConfig." + f + " is not supported by dockgate yet");
                }
            }
            JsonNode masked = DockerJson.field(hc, "MaskedPaths");
            JsonNode readonly = DockerJson.field(hc, "ReadonlyPaths");
            if (masked != null && !masked.isNull() || readonly != null && !readonly.isNull()) {
                // an empty list means "none": weaker than Docker's defaults, which dockgate always applies
                throw EngineException.invalid("HostConfig." + (masked != null && !masked.isNull() ? "MaskedPaths" : "ReadonlyPaths")
                        + " is not supported by dockgate yet: Docker's default masked and read-only paths always apply");
            }
            String runtime = DockerJson.text(hc, "Runtime");
            if (runtime != null && !runtime.isEmpty() && !runtime.equals("runc")) {
                throw EngineException.invalid("unknown or invalid runtime name: " + runtime);
            }
            String cgroupns = DockerJson.text(hc, "CgroupnsMode");
            if (cgroupns != null && !cgroupns.isEmpty() && !cgroupns.equals("host")) {
                throw EngineException.invalid("cgroup namespace mode \"" + cgroupns + "\" is not supported: cgroup v1 hosts use the host's");
            }
            String isolation = DockerJson.text(hc, "Isolation");
            if (isolation != null && !isolation.isEmpty() && !isolation.equals("default")) {
                throw EngineException.invalid("invalid isolation: " + isolation + " on linux");
            }
        }
        ContainerSpec.HostBuilder host = ContainerSpec.Host.builder();
        String network = hc == null ? null : DockerJson.text(hc, "NetworkMode");
        if (network == null || network.isEmpty() || network.equals("default")) {
            network = "bridge"; // the default network (network none when the daemon has no bridge)
        }
        host.networkMode(network);
        String mode = network;
        if (endpoints.size() > 1 && endpoints.stream().noneMatch(e -> e.network().equals(mode) || e.network().equals("default"))) {
            // several networks (API 1.44 on): the network mode is one of them, as the CLI sends it
            throw EngineException.invalid("Container cannot be connected to network endpoints: " + network + " "
                    + String.join(", ", endpoints.stream().map(EndpointRequest::network).toList()));
        }
        if (endpoints.size() == 1 && !endpoints.get(0).network().equals(network) && !endpoints.get(0).network().equals("default")) {
            throw EngineException.invalid("Container cannot be connected to network endpoints: " + network + " "
                    + endpoints.get(0).network());
        }
        host.net(new ContainerSpec.Net(endpoints, portBindings(DockerJson.field(hc, "PortBindings")),
                DockerJson.bool(hc, "PublishAllPorts"), exposedPorts(DockerJson.field(body, "ExposedPorts")))
                .withResolution(resolution(hc)).withLinks(links(hc, DockerJson.field(body, "NetworkingConfig"), network)));
        List<ContainerSpec.Mount> mounts = new ArrayList<>();
        Map<String, String> tmpfs = new LinkedHashMap<>();
        if (hc != null) {
            host.privileged(DockerJson.bool(hc, "Privileged"))
                    .readonlyRootfs(DockerJson.bool(hc, "ReadonlyRootfs"))
                    .capAdd(orEmpty(DockerJson.strings(hc, "CapAdd")))
                    .capDrop(orEmpty(DockerJson.strings(hc, "CapDrop")))
                    .autoRemove(DockerJson.bool(hc, "AutoRemove"))
                    .restartPolicy(restartPolicy(hc))
                    .ulimits(ulimits(hc))
                    .noNewPrivileges(noNewPrivileges(hc))
                    .log(logConfig(hc));
            resources(hc, host);
            long shm = DockerJson.number(hc, "ShmSize");
            if (shm < 0) {
                throw EngineException.invalid("SHM size can not be less than 0");
            }
            JsonNode swappiness = DockerJson.field(hc, "MemorySwappiness");
            host.shmSize(shm)
                    .oomScoreAdj((int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, DockerJson.number(hc, "OomScoreAdj"))))
                    .oomKillDisable(DockerJson.bool(hc, "OomKillDisable"))
                    .memorySwappiness(swappiness == null || swappiness.isNull() || swappiness.asLong() == -1 ? null : swappiness.asLong())
                    .memoryReservation(DockerJson.number(hc, "MemoryReservation"))
                    .groupAdd(orEmpty(DockerJson.strings(hc, "GroupAdd")))
                    .sysctls(DockerJson.stringMap(hc, "Sysctls"))
                    .devices(devices(DockerJson.field(hc, "Devices")))
                    .deviceCgroupRules(orEmpty(DockerJson.strings(hc, "DeviceCgroupRules")))
                    .pidMode(orEmpty(DockerJson.text(hc, "PidMode")))
                    .ipcMode(orEmpty(DockerJson.text(hc, "IpcMode")))
                    .utsMode(orEmpty(DockerJson.text(hc, "UTSMode")))
                    .init(DockerJson.bool(hc, "Init"))
                    .volumesFrom(orEmpty(DockerJson.strings(hc, "VolumesFrom")))
                    .cgroupParent(orEmpty(DockerJson.text(hc, "CgroupParent")));
            orEmpty(DockerJson.strings(hc, "VolumesFrom")).forEach(io.dockgate.engine.container.VolumesFrom::parse);
            int[] console = ExecApi.consoleSize(hc);
            host.consoleSize(console[0], console[1]);
            tmpfs.putAll(DockerJson.stringMap(hc, "Tmpfs"));
            binds(DockerJson.strings(hc, "Binds"), mounts);
            host.binds(orEmpty(DockerJson.strings(hc, "Binds")));
            mountsField(DockerJson.field(hc, "Mounts"), mounts, tmpfs);
            if (host.build().autoRemove() && !host.build().restartPolicy().name().equals("no")) {
                throw EngineException.invalid("can't create 'AutoRemove' container with restart policy");
            }
        }
        JsonNode volumes = DockerJson.field(body, "Volumes");
        List<String> volumeTargets = new ArrayList<>();
        if (volumes != null && volumes.isObject()) {
            volumes.fieldNames().forEachRemaining(volumeTargets::add);
            volumes.fieldNames().forEachRemaining(target -> {
                if (mounts.stream().noneMatch(m -> m.target().equals(target)) && !tmpfs.containsKey(target)) {
                    mounts.add(new ContainerSpec.Mount(ContainerSpec.Mount.VOLUME, "", target, false));
                }
            });
        }
        host.mounts(mounts).tmpfs(tmpfs);
        JsonNode stopTimeout = DockerJson.field(body, "StopTimeout");
        return ContainerSpec.builder(image)
                .entrypoint(DockerJson.strings(body, "Entrypoint"))
                .cmd(DockerJson.strings(body, "Cmd"))
                .env(orEmpty(DockerJson.strings(body, "Env")))
                .workingDir(DockerJson.text(body, "WorkingDir"))
                .user(DockerJson.text(body, "User"))
                .hostname(DockerJson.text(body, "Hostname"))
                .labels(DockerJson.stringMap(body, "Labels"))
                .tty(DockerJson.bool(body, "Tty"))
                .openStdin(DockerJson.bool(body, "OpenStdin"))
                .stdinOnce(DockerJson.bool(body, "StdinOnce"))
                .stopSignal(DockerJson.text(body, "StopSignal"))
                .stopTimeout(stopTimeout == null ? null : stopTimeout.asInt())
                .host(host.build())
                .shown(new ContainerSpec.Shown(DockerJson.bool(body, "AttachStdin"), DockerJson.bool(body, "AttachStdout"),
                        DockerJson.bool(body, "AttachStderr"), volumeTargets))
                .healthcheck(io.dockgate.engine.container.Healthcheck.fromJson(DockerJson.field(body, "Healthcheck")))
                .build();
    }

    /**
     * The resources create and update share (memory, swap, CPU shares, quota and period or NanoCpus, pids,
     * cpuset), read the one way for both: NanoCpus becomes Docker's quota over the default period.
     */
    static void resources(JsonNode hc, ContainerSpec.HostBuilder host) {
        host.memory(DockerJson.number(hc, "Memory"))
                .memorySwap(DockerJson.number(hc, "MemorySwap"))
                .cpuShares(DockerJson.number(hc, "CpuShares"))
                .cpuQuota(DockerJson.number(hc, "CpuQuota"))
                .cpuPeriod(DockerJson.number(hc, "CpuPeriod"))
                .pidsLimit(DockerJson.number(hc, "PidsLimit"))
                .cpusetCpus(orEmpty(DockerJson.text(hc, "CpusetCpus")));
        long nanoCpus = DockerJson.number(hc, "NanoCpus");
        if (nanoCpus != 0) {
            if (DockerJson.number(hc, "CpuQuota") != 0 || DockerJson.number(hc, "CpuPeriod") != 0) {
                throw EngineException.invalid("Conflicting options: Nano CPUs and CPU Period cannot both be set");
            }
            checkNanoCpus(nanoCpus);
            host.cpus(nanoCpus);
        }
    }

    /** NanoCpus within what the host has, in Docker's words. */
    static void checkNanoCpus(long nanoCpus) {
        int cpus = Runtime.getRuntime().availableProcessors();
        if (nanoCpus < 0 || nanoCpus > (long) cpus * 1_000_000_000L) {
            throw EngineException.invalid("Range of CPUs is from 0.01 to " + cpus + ".00, as there are only " + cpus + " CPUs available");
        }
    }

    static ContainerSpec.RestartPolicy restartPolicy(JsonNode hc) {
        JsonNode restart = DockerJson.field(hc, "RestartPolicy");
        String name = restart == null ? "" : orEmpty(DockerJson.text(restart, "Name"));
        long retries = restart == null ? 0 : DockerJson.number(restart, "MaximumRetryCount");
        switch (name) {
            case "", "no" -> {
                if (retries != 0) {
                    throw EngineException.invalid("invalid restart policy: maximum retry count can only be used with 'on-failure'");
                }
                return ContainerSpec.RestartPolicy.NO;
            }
            case "always", "unless-stopped" -> {
                if (retries != 0) {
                    throw EngineException.invalid("invalid restart policy: maximum retry count can only be used with 'on-failure'");
                }
                return new ContainerSpec.RestartPolicy(name, 0);
            }
            case "on-failure" -> {
                if (retries < 0) {
                    throw EngineException.invalid("invalid restart policy: maximum retry count cannot be negative");
                }
                return new ContainerSpec.RestartPolicy(name, (int) Math.min(retries, Integer.MAX_VALUE));
            }
            default -> throw EngineException.invalid("invalid restart policy: unknown policy '" + name
                    + "'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
        }
    }

    private static List<ContainerSpec.Ulimit> ulimits(JsonNode hc) {
        JsonNode list = DockerJson.field(hc, "Ulimits");
        List<ContainerSpec.Ulimit> out = new ArrayList<>();
        if (list == null) {
            return out;
        }
        if (!list.isArray()) {
            throw EngineException.invalid("invalid JSON: Ulimits must be a list");
        }
        for (JsonNode u : list) {
            String name = orEmpty(DockerJson.text(u, "Name"));
            if (!ULIMITS.contains(name)) {
                throw EngineException.invalid("invalid ulimit type: " + name);
            }
            long soft = DockerJson.number(u, "Soft");
            long hard = DockerJson.number(u, "Hard");
            if (soft > hard || soft < -1) {
                throw EngineException.invalid("ulimit soft limit must be less than or equal to hard limit: " + soft + " > " + hard);
            }
            out.add(new ContainerSpec.Ulimit(name, soft, hard));
        }
        return out;
    }

    private static boolean noNewPrivileges(JsonNode hc) {
        boolean nnp = false;
        for (String opt : orEmpty(DockerJson.strings(hc, "SecurityOpt"))) {
            String o = opt.trim();
            if (o.equals("no-new-privileges") || o.equals("no-new-privileges:true") || o.equals("no-new-privileges=true")) {
                nnp = true;
            } else if (o.equals("no-new-privileges:false") || o.equals("no-new-privileges=false")) {
                nnp = false;
            } else {
                throw EngineException.invalid("security option \"" + o + "\" is not supported: dockgate always applies its default "
                        + "seccomp profile (and no AppArmor/SELinux labels)");
            }
        }
        return nnp;
    }

    private static ContainerSpec.LogConfig logConfig(JsonNode hc) {
        JsonNode lc = DockerJson.field(hc, "LogConfig");
        if (lc == null) {
            return ContainerSpec.LogConfig.DEFAULT;
        }
        String type = orEmpty(DockerJson.text(lc, "Type"));
        if (type.equals("none")) {
            if (!DockerJson.stringMap(lc, "Config").isEmpty()) {
                throw EngineException.invalid("unknown log opt '" + DockerJson.stringMap(lc, "Config").keySet().iterator().next()
                        + "' for none log driver");
            }
            return new ContainerSpec.LogConfig(0, 1, "none");
        }
        if (!Set.of("", "json-file", "k8s-file", "local").contains(type)) {
            throw EngineException.invalid("logging driver \"" + type + "\" is not supported: dockgate keeps logs in files "
                    + "(json-file semantics, with max-size and max-file)");
        }
        Map<String, String> config = DockerJson.stringMap(lc, "Config");
        boolean local = type.equals("local");
        long maxSize = local ? 20L << 20 : 0; // the local driver's defaults: 20 MB, 5 files
        int maxFile = local ? 5 : 1;
        for (Map.Entry<String, String> e : config.entrySet()) {
            switch (e.getKey()) {
                case "max-size" -> maxSize = parseSize(e.getValue(), "max-size");
                case "max-file" -> {
                    try {
                        maxFile = Integer.parseInt(e.getValue());
                    } catch (NumberFormatException x) {
                        throw EngineException.invalid("invalid value for max-file: " + e.getValue());
                    }
                    if (maxFile < 1) {
                        throw EngineException.invalid("max-file cannot be less than 1");
                    }
                }
                default -> throw EngineException.invalid("unknown log opt '" + e.getKey() + "' for " + (local ? "local" : "json-file")
                        + " log driver");
            }
        }
        // max-file without max-size is accepted, as dockerd 20.10 does: nothing is rotated without a size
        return new ContainerSpec.LogConfig(maxSize, maxFile, type.isEmpty() || type.equals("k8s-file") ? "json-file" : type);
    }

    /** Docker's size syntax: 10k, 10m, 1g (binary units), or bytes. */
    static long parseSize(String text, String name) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (t.endsWith("b")) {
            t = t.substring(0, t.length() - 1);
        }
        if (t.endsWith("k")) {
            unit = 1L << 10;
        } else if (t.endsWith("m")) {
            unit = 1L << 20;
        } else if (t.endsWith("g")) {
            unit = 1L << 30;
        }
        if (unit > 1) {
            t = t.substring(0, t.length() - 1);
        }
        try {
            long v = (long) (Double.parseDouble(t) * unit);
            if (v <= 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw EngineException.invalid("invalid value for " + name + ": " + text);
        }
    }

    /** {@code -v SRC:DST[:OPTIONS]}: an absolute SRC is a host path, anything else a volume name. */
    static void binds(List<String> binds, List<ContainerSpec.Mount> mounts) {
        if (binds == null) {
            return;
        }
        for (String bind : binds) {
            String[] parts = bind.split(":", -1);
            if (parts.length < 2 || parts.length > 3 || parts[0].isEmpty() || parts[1].isEmpty()) {
                throw EngineException.invalid("invalid volume specification: '" + bind + "'");
            }
            boolean readOnly = false;
            if (parts.length == 3) {
                for (String o : parts[2].split(",")) {
                    switch (o) {
                        case "ro" -> readOnly = true;
                        case "rw", "z", "Z", "private", "rprivate" -> { }
                        default -> throw EngineException.invalid("invalid mode: " + o + " (in '" + bind
                                + "'): dockgate supports ro, rw and private propagation");
                    }
                }
            }
            String type = parts[0].startsWith("/") ? ContainerSpec.Mount.BIND : ContainerSpec.Mount.VOLUME;
            addMount(mounts, new ContainerSpec.Mount(type, parts[0], parts[1], readOnly));
        }
    }

    private static void mountsField(JsonNode list, List<ContainerSpec.Mount> mounts, Map<String, String> tmpfs) {
        if (list == null) {
            return;
        }
        if (!list.isArray()) {
            throw EngineException.invalid("invalid JSON: Mounts must be a list");
        }
        for (JsonNode m : list) {
            String type = orEmpty(DockerJson.text(m, "Type"));
            String source = orEmpty(DockerJson.text(m, "Source"));
            String target = orEmpty(DockerJson.text(m, "Target"));
            boolean readOnly = DockerJson.bool(m, "ReadOnly");
            if (target.isEmpty()) {
                throw EngineException.invalid("invalid mount config: Target must not be empty");
            }
            switch (type) {
                case "bind" -> {
                    JsonNode opts = DockerJson.field(m, "BindOptions");
                    if (opts != null) {
                        String propagation = orEmpty(DockerJson.text(opts, "Propagation"));
                        if (!PRIVATE_PROPAGATION.contains(propagation)) {
                            throw EngineException.invalid("invalid mount config: bind propagation \"" + propagation + "\" is not supported");
                        }
                        if (DockerJson.bool(opts, "NonRecursive") || DockerJson.bool(opts, "ReadOnlyNonRecursive")
                                || DockerJson.bool(opts, "ReadOnlyForceRecursive") || DockerJson.bool(opts, "CreateMountpoint")) {
                            throw EngineException.invalid("invalid mount config: these bind options are not supported");
                        }
                    }
                    if (!source.startsWith("/")) {
                        throw EngineException.invalid("invalid mount config for type \"bind\": invalid mount path: '" + source
                                + "' mount path must be absolute");
                    }
                    addMount(mounts, new ContainerSpec.Mount(ContainerSpec.Mount.BIND, source, target, readOnly));
                }
                case "volume" -> {
                    JsonNode opts = DockerJson.field(m, "VolumeOptions");
                    if (opts != null) {
                        JsonNode driver = DockerJson.field(opts, "DriverConfig");
                        if (driver != null && (DockerJson.present(driver, "Options")
                                || !Set.of("", "local").contains(orEmpty(DockerJson.text(driver, "Name"))))) {
                            throw EngineException.invalid("invalid mount config: volume driver options are not supported");
                        }
                        if (DockerJson.present(opts, "Subpath")) {
                            throw EngineException.invalid("invalid mount config: volume subpaths are not supported");
                        }
                    }
                    addMount(mounts, new ContainerSpec.Mount(ContainerSpec.Mount.VOLUME, source, target, readOnly));
                }
                case "tmpfs" -> {
                    if (!source.isEmpty()) {
                        throw EngineException.invalid("invalid mount config for type \"tmpfs\": source must not be specified");
                    }
                    JsonNode opts = DockerJson.field(m, "TmpfsOptions");
                    List<String> o = new ArrayList<>();
                    if (opts != null) {
                        long size = DockerJson.number(opts, "SizeBytes");
                        long mode = DockerJson.number(opts, "Mode");
                        if (size > 0) {
                            o.add("size=" + size);
                        }
                        if (mode > 0) {
                            o.add("mode=" + Long.toOctalString(mode));
                        }
                    }
                    if (readOnly) {
                        o.add("ro");
                    }
                    if (tmpfs.put(target, String.join(",", o)) != null) {
                        throw EngineException.invalid("Duplicate mount point: " + target);
                    }
                }
                default -> throw EngineException.invalid("invalid mount config: mount type \"" + type + "\" is not supported");
            }
        }
    }

    private static void addMount(List<ContainerSpec.Mount> mounts, ContainerSpec.Mount m) {
        if (mounts.stream().anyMatch(x -> x.target().equals(m.target()))) {
            throw EngineException.invalid("Duplicate mount point: " + m.target());
        }
        mounts.add(m);
    }

    /** HostConfig.Devices: PathOnHost, PathInContainer (default: the same path), CgroupPermissions (default rwm). */
    private static List<ContainerSpec.Device> devices(JsonNode list) {
        List<ContainerSpec.Device> out = new ArrayList<>();
        if (list == null || list.isNull()) {
            return out;
        }
        if (!list.isArray()) {
            throw EngineException.invalid("invalid JSON: Devices must be a list");
        }
        for (JsonNode d : list) {
            String onHost = orEmpty(DockerJson.text(d, "PathOnHost"));
            String inContainer = orEmpty(DockerJson.text(d, "PathInContainer"));
            String permissions = orEmpty(DockerJson.text(d, "CgroupPermissions"));
            if (onHost.isEmpty()) {
                throw EngineException.invalid("invalid device: PathOnHost is required");
            }
            out.add(new ContainerSpec.Device(onHost, inContainer.isEmpty() ? onHost : inContainer, permissions.isEmpty() ? "rwm" : permissions));
        }
        return out;
    }

    /** A value a client set on purpose: not absent, null, false, 0, "" or an empty list or map. */
    static boolean isSet(JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) {
            return false;
        }
        if (v.isBoolean()) {
            return v.asBoolean();
        }
        if (v.isNumber()) {
            return v.asDouble() != 0;
        }
        if (v.isTextual()) {
            return !v.asText().isEmpty();
        }
        return v.size() > 0;
    }

    /**
     * NetworkingConfig: the endpoint on each network the container is created on (one before API 1.44,
     * any number since): its aliases, fixed IPv4 address and MAC address (Config.MacAddress, the older
     * place, goes to the network mode's endpoint).
     */
    private static List<EndpointRequest> networkingConfig(JsonNode nc, String configMac) {
        JsonNode endpoints = nc == null ? null : DockerJson.field(nc, "EndpointsConfig");
        if (endpoints == null || endpoints.isNull() || endpoints.isEmpty()) {
            return configMac == null || configMac.isEmpty() ? List.of() : List.of(new EndpointRequest("default", List.of(), null, configMac));
        }
        List<EndpointRequest> out = new ArrayList<>();
        var it = endpoints.fields();
        while (it.hasNext()) {
            var entry = it.next();
            out.add(endpoint(entry.getKey(), entry.getValue(), endpoints.size() == 1 ? configMac : null));
        }
        return out;
    }

    private static EndpointRequest endpoint(String network, JsonNode settings, String configMac) {
        for (String f : UNSUPPORTED_ENDPOINT_FIELDS) {
            if (settings != null && isSet(DockerJson.field(settings, f))) {
                throw EngineException.invalid("NetworkingConfig.EndpointsConfig." + network + "." + f + " is not supported by dockgate yet");
            }
        }
        String ipv4 = null;
        JsonNode ipam = DockerJson.field(settings, "IPAMConfig");
        if (ipam != null) {
            ipv4 = DockerJson.text(ipam, "IPv4Address");
            if (isSet(DockerJson.field(ipam, "IPv6Address")) || isSet(DockerJson.field(ipam, "LinkLocalIPs"))) {
                throw EngineException.invalid("IPv6 and link-local addresses are not supported by dockgate");
            }
        }
        String mac = DockerJson.text(settings, "MacAddress");
        if (mac == null || mac.isEmpty()) {
            mac = configMac;
        }
        return new EndpointRequest(network, orEmpty(DockerJson.strings(settings, "Aliases")), ipv4, mac);
    }

    /**
     * Legacy links: HostConfig.Links, and the Links of the network mode's endpoint (where clients put them
     * for a user-defined network); on another network's endpoint they are refused (400 naming the field).
     */
    private static List<ContainerSpec.Link> links(JsonNode hc, JsonNode nc, String mode) {
        List<ContainerSpec.Link> out = new ArrayList<>();
        orEmpty(DockerJson.strings(hc, "Links")).forEach(l -> out.add(ContainerSpec.Link.parse(l)));
        JsonNode endpoints = nc == null ? null : DockerJson.field(nc, "EndpointsConfig");
        if (endpoints != null && endpoints.isObject()) {
            var it = endpoints.fields();
            while (it.hasNext()) {
                var entry = it.next();
                List<String> given = orEmpty(DockerJson.strings(entry.getValue(), "Links"));
                if (given.isEmpty()) {
                    continue;
                }
                if (!entry.getKey().equals(mode) && !entry.getKey().equals("default")) {
                    throw EngineException.invalid("NetworkingConfig.EndpointsConfig." + entry.getKey()
                            + ".Links: links are supported on the network mode's network only");
                }
                for (String l : given) {
                    ContainerSpec.Link link = ContainerSpec.Link.parse(l);
                    if (!out.contains(link)) {
                        out.add(link);
                    }
                }
            }
        }
        return out;
    }

    /** HostConfig.Dns, DnsSearch, DnsOptions (written into resolv.conf) and ExtraHosts ("name:address" in /etc/hosts). */
    static ContainerSpec.Resolution resolution(JsonNode hc) {
        List<String> dns = orEmpty(DockerJson.strings(hc, "Dns"));
        for (String d : dns) {
            if (!d.matches("([0-9]{1,3}\\.){3}[0-9]{1,3}")) {
                throw EngineException.invalid(d + " is not an IPv4 address (HostConfig.Dns; IPv6 is not supported by dockgate)");
            }
        }
        List<String> search = orEmpty(DockerJson.strings(hc, "DnsSearch"));
        for (String s : search) {
            if (!s.matches("[A-Za-z0-9.-]{1,253}")) {
                throw EngineException.invalid(s + " is not a valid domain (HostConfig.DnsSearch)");
            }
        }
        List<String> options = orEmpty(DockerJson.strings(hc, "DnsOptions"));
        for (String o : options) {
            if (!o.matches("[A-Za-z0-9_:.-]{1,64}")) {
                throw EngineException.invalid("invalid resolver option " + o + " (HostConfig.DnsOptions)");
            }
        }
        List<String> extra = orEmpty(DockerJson.strings(hc, "ExtraHosts"));
        for (String e : extra) {
            int colon = e.indexOf(':');
            int eq = e.indexOf('=');
            int at = colon > 0 ? colon : eq;
            String name = at > 0 ? e.substring(0, at) : "";
            String address = at > 0 ? e.substring(at + 1) : "";
            if (name.isEmpty() || !name.matches("[A-Za-z0-9][A-Za-z0-9.-]*")
                    || !(address.equals("host-gateway") || address.matches("([0-9]{1,3}\\.){3}[0-9]{1,3}"))) {
                throw EngineException.invalid("invalid IP address in add-host: \"" + e + "\" (name:IPv4 address or name:host-gateway)");
            }
        }
        return new ContainerSpec.Resolution(dns, search, options, extra);
    }

    /** HostConfig.PortBindings: {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}; a null or empty list binds nothing. */
    static List<PortBinding> portBindings(JsonNode bindings) {
        List<PortBinding> out = new ArrayList<>();
        if (bindings == null || !bindings.isObject()) {
            return out;
        }
        var it = bindings.fields();
        while (it.hasNext()) {
            var e = it.next();
            String[] port = port(e.getKey());
            if (e.getValue() == null || !e.getValue().isArray()) {
                continue;
            }
            for (JsonNode b : e.getValue()) {
                out.add(new PortBinding(Integer.parseInt(port[0]), port[1], DockerJson.text(b, "HostIp"), DockerJson.text(b, "HostPort")));
            }
        }
        return out;
    }

    /** Config.ExposedPorts: {"80/tcp": {}} as "80/tcp". */
    static List<String> exposedPorts(JsonNode exposed) {
        List<String> out = new ArrayList<>();
        if (exposed != null && exposed.isObject()) {
            exposed.fieldNames().forEachRemaining(k -> {
                String[] p = port(k);
                out.add(p[0] + "/" + p[1]);
            });
        }
        return out;
    }

    /** "80", "80/tcp", "53/udp" as {port, protocol}. */
    private static String[] port(String key) {
        String[] p = key.split("/", -1);
        if (p.length > 2 || !p[0].matches("[0-9]{1,5}") || Integer.parseInt(p[0]) < 1 || Integer.parseInt(p[0]) > 65535) {
            throw EngineException.invalid("invalid port specification: \"" + key + "\"");
        }
        String proto = p.length == 2 ? p[1].toLowerCase(java.util.Locale.ROOT) : "tcp";
        if (!proto.equals("tcp") && !proto.equals("udp")) {
            throw EngineException.invalid("invalid proto: " + proto + (proto.equals("sctp") ? " (sctp is not supported by dockgate)" : ""));
        }
        return new String[] {p[0], proto};
    }

    private static List<String> orEmpty(List<String> list) {
        return list == null ? List.of() : list;
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }
}
