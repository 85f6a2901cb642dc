package io.dockgate.engine.container;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.image.Image;
import io.dockgate.engine.image.ImageStore;
import io.dockgate.engine.net.EndpointRequest;
import io.dockgate.engine.net.NetworkRecord;
import io.dockgate.engine.net.NetworkState;
import io.dockgate.engine.net.Networks;
import io.dockgate.engine.net.PortBinding;
import io.dockgate.engine.oci.SpecBuilder;
import io.dockgate.engine.snapshot.SnapshotService;
import io.dockgate.engine.volume.Volume;
import io.dockgate.engine.volume.VolumeStore;
import io.dockgate.files.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creating a container: the image's defaults (entrypoint, command, environment, user, working directory,
 * labels, stop signal), validation of the host configuration, namespaces joined by reference, mounts
 * resolved (binds checked, volumes created, VolumesFrom copied), the /etc files, the writable layer.
 * What start needs of the same work (mount sources with volume copy-up, joined namespaces, /etc files
 * lost in a crash) is here too, so that one room knows how a container is put together.
 */
final class ContainerCreation {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerCreation.class);

    private final ContainerStore store;
    private final ImageStore images;
    private final VolumeStore volumes;
    private final SnapshotService snapshots;
    private final ContainerEvents events;
    private final Networks networks;

    ContainerCreation(ContainerStore store, ImageStore images, VolumeStore volumes, SnapshotService snapshots, ContainerEvents events,
                      Networks networks) {
        this.networks = networks;
        this.store = store;
        this.images = images;
        this.volumes = volumes;
        this.snapshots = snapshots;
        this.events = events;
    }

    /** docker create: the image's defaults merged in, validated, mounts resolved, /etc files written, the layer prepared. */
    ContainerRecord create(String name, ContainerSpec spec, io.dockgate.engine.image.ImageNamespace ns) throws IOException {
        Image image = images.resolve(ns, spec.image());
        String id = ContainerStore.newId();
        String reserved = store.reserveName(name, id);
        try {
            JsonNode ic = image.runConfig();
            List<String> entrypoint = spec.entrypoint() != null ? spec.entrypoint() : strings(ic.get("Entrypoint"));
            List<String> cmd = spec.cmd() != null && !spec.cmd().isEmpty() ? spec.cmd()
                    : spec.entrypoint() != null ? List.of() : strings(ic.get("Cmd"));
            List<String> argv = new ArrayList<>(entrypoint);
            argv.addAll(cmd);
            if (argv.isEmpty()) {
                throw EngineException.invalid("No command specified");
            }
            ContainerRecord sharedNetwork = sharedNetwork(spec); // --network container:X: X's namespace, hostname and /etc files
            String hostname = sharedNetwork != null ? sharedNetwork.spec().hostname()
                    : spec.hostname() == null || spec.hostname().isEmpty() ? id.substring(0, 12) : spec.hostname();
            Map<String, String> env = new LinkedHashMap<>();
            for (String e : strings(ic.get("Env"))) {
                putEnv(env, e);
            }
            if (!env.containsKey("PATH")) {
                env.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
            }
            for (String e : spec.env() == null ? List.<String>of() : spec.env()) {
                putEnv(env, e);
            }
            env.putIfAbsent("HOSTNAME", hostname);
            if (spec.tty()) {
                env.putIfAbsent("TERM", "xterm");
            }
            List<String> envList = new ArrayList<>();
            env.forEach((k, v) -> envList.add(v == null ? k : k + "=" + v));
            Map<String, String> labels = new LinkedHashMap<>();
            if (ic.get("Labels") != null && ic.get("Labels").isObject()) {
                ic.get("Labels").fields().forEachRemaining(f -> {
                    if (!f.getKey().equalsIgnoreCase(ContainerSpec.OWNER_LABEL)) { // ownership never comes from an image
                        labels.put(f.getKey(), f.getValue().asText());
                    }
                });
            }
            if (spec.labels() != null) {
                labels.putAll(spec.labels());
            }
            ContainerSpec.Host host = withMountsFrom(resolveNamespaces(spec.host(), spec.hostname()));
            validate(host);
            host = withNetwork(host, ic, sharedNetwork);
            host = host.toBuilder().mounts(resolveMounts(host, labels.get(ContainerSpec.OWNER_LABEL))).build();
            SpecBuilder.capabilities(host); // refuses unknown capability names now, not at start
            String workingDir = spec.workingDir() != null && !spec.workingDir().isEmpty() ? spec.workingDir() : ic.path("WorkingDir").asText("");
            String user = spec.user() != null && !spec.user().isEmpty() ? spec.user() : ic.path("User").asText("");
            String stopSignal = spec.stopSignal() != null && !spec.stopSignal().isEmpty() ? spec.stopSignal() : ic.path("StopSignal").asText("");
            if (!stopSignal.isEmpty()) {
                Signals.parse(stopSignal);
            }
            ContainerSpec merged = new ContainerSpec(spec.image(), entrypoint, cmd, envList, workingDir, user, hostname, labels,
                    spec.tty(), spec.openStdin(), spec.stdinOnce(), stopSignal, spec.stopTimeout(), host, spec.shown(),
                    Healthcheck.merge(spec.healthcheck(), Healthcheck.fromJson(ic.get("Healthcheck"))));
            Path dir = store.directory(id);
            Files.createDirectories(dir.resolve("etc"));
            writeEtc(dir.resolve("etc"), hostname, "host".equals(host.networkMode()), host.net() == null
                    ? ContainerSpec.Resolution.NONE : host.net().resolutionOrNone(), hostGateway());
            snapshots.prepare(id, images.layersOf(image));
            ContainerRecord record = new ContainerRecord(id, reserved, Instant.now().toString(), image.id().toString(), spec.image(),
                    merged, argv.get(0), List.copyOf(argv.subList(1, argv.size())), ContainerRecord.Status.created(), 0,
                    dir.resolve("container.log").toString());
            store.save(record);
            events.emit(record, "create");
            return record;
        } catch (IOException | RuntimeException e) {
            store.releaseName(reserved, id);
            cleanupFailedCreate(id);
            throw e;
        }
    }

    private void cleanupFailedCreate(String id) {
        try {
            snapshots.remove(id);
            io.dockgate.files.FileTrees.delete(store.directory(id));
        } catch (IOException | RuntimeException e) {
            LOG.warn("cleanup after a failed create of {}: {}", id, e.toString());
        }
    }

    /**
     * Checks bind sources and mount targets, and creates the named (or anonymous) volumes that are missing;
     * volumes created on the way belong to the container's owner (when it has one).
     */
    private List<ContainerSpec.Mount> resolveMounts(ContainerSpec.Host host, String owner) throws IOException {
        Map<String, String> volumeLabels = owner == null ? Map.of() : Map.of(ContainerSpec.OWNER_LABEL, owner);
        List<ContainerSpec.Mount> resolved = new ArrayList<>();
        java.util.Set<String> targets = new java.util.HashSet<>(host.tmpfs() == null ? java.util.Set.of() : host.tmpfs().keySet());
        for (ContainerSpec.Mount m : host.mountsOrEmpty()) {
            String target = m.target();
            if (!target.startsWith("/") || Path.of(target).normalize().getNameCount() == 0) {
                throw EngineException.invalid("invalid mount config: invalid mount path: '" + target + "' mount path must be absolute and not /");
            }
            target = Path.of(target).normalize().toString();
            if (!targets.add(target)) {
                throw EngineException.invalid("Duplicate mount point: " + target);
            }
            switch (m.type()) {
                case ContainerSpec.Mount.BIND -> {
                    Path source = Path.of(m.source()).normalize();
                    if (!source.isAbsolute()) {
                        throw EngineException.invalid("invalid mount config for type \"bind\": invalid mount path: '" + m.source()
                                + "' mount path must be absolute");
                    }
                    if (!Files.exists(source)) {
                        throw EngineException.invalid("invalid mount config for type \"bind\": bind source path does not exist: " + source);
                    }
                    resolved.add(new ContainerSpec.Mount(m.type(), source.toString(), target, m.readOnly()));
                }
                case ContainerSpec.Mount.VOLUME -> {
                    Volume v = m.source() == null || m.source().isEmpty() ? volumes.create(null, "local", volumeLabels, Map.of())
                            : volumes.find(m.source()) != null ? volumes.find(m.source())
                            : volumes.create(m.source(), "local", volumeLabels, Map.of());
                    resolved.add(new ContainerSpec.Mount(m.type(), v.name(), target, m.readOnly()));
                }
                default -> throw EngineException.invalid("invalid mount config: mount type \"" + m.type() + "\" is not supported");
            }
        }
        return resolved;
    }

    /** The host directory behind a mount; a volume's first mount copies the image's content in (Docker's copy-up). */
    String hostPath(ContainerSpec.Mount m, Path rootfs) {
        if (m.type().equals(ContainerSpec.Mount.BIND)) {
            if (!Files.exists(Path.of(m.source()))) {
                throw EngineException.invalid("invalid mount config for type \"bind\": bind source path does not exist: " + m.source());
            }
            return m.source();
        }
        Volume v = volumes.get(m.source());
        if (!v.populated()) {
            try {
                Path inImage = io.dockgate.engine.oci.RootfsPaths.resolve(rootfs, m.target());
                Path data = Path.of(v.mountpoint());
                boolean empty;
                try (var entries = Files.list(data)) {
                    empty = entries.findAny().isEmpty();
                }
                if (empty && Files.isDirectory(inImage, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Process p = new ProcessBuilder("cp", "-a", "--", inImage + "/.", data + "/").redirectErrorStream(true).start();
                    String out = new String(p.getInputStream().readAllBytes());
                    if (p.waitFor() != 0) {
                        throw new IOException("copying " + m.target() + " into volume " + v.name() + ": " + out.strip());
                    }
                }
                volumes.markPopulated(v.name());
            } catch (IOException e) {
                throw new EngineException(ErrorKind.INTERNAL, e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EngineException(ErrorKind.INTERNAL, "interrupted", e);
            }
        }
        return v.mountpoint();
    }

    static void validate(ContainerSpec.Host host) {
        ContainerSpec.RestartPolicy rp = host.restartPolicy();
        if (rp != null && !List.of("", "no", "always", "unless-stopped", "on-failure").contains(rp.name())) {
            throw EngineException.invalid("invalid restart policy: unknown policy '" + rp.name() + "'");
        }
        if (rp != null && (rp.maximumRetryCount() < 0 || rp.maximumRetryCount() > 0 && !rp.name().equals("on-failure"))) {
            throw EngineException.invalid("invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative");
        }
        if (host.autoRemove() && rp != null && !rp.name().isEmpty() && !rp.name().equals("no")) {
            throw EngineException.invalid("can't create 'AutoRemove' container with restart policy");
        }
        if (host.memory() < 0 || host.memory() > 0 && host.memory() < 6L << 20) {
            throw EngineException.invalid("Minimum memory limit allowed is 6MB");
        }
        if (host.memorySwap() > 0 && host.memory() > 0 && host.memorySwap() < host.memory()) {
            throw EngineException.invalid("Minimum memoryswap limit should be larger than memory limit, see usage");
        }
        if (host.memorySwap() > 0 && host.memory() == 0) {
            throw EngineException.invalid("You should always set the Memory limit when using Memoryswap limit, see usage");
        }
        if (host.cpuShares() < 0 || host.pidsLimit() < -1 || host.cpuPeriod() < 0) {
            throw EngineException.invalid("negative resource limits are not allowed");
        }
        if (host.cpuPeriod() != 0 && (host.cpuPeriod() < 1000 || host.cpuPeriod() > 1_000_000)) {
            throw EngineException.invalid("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
        }
        if (host.cpuQuota() != 0 && host.cpuQuota() < 1000) {
            throw EngineException.invalid("CPU cfs quota can not be less than 1ms (i.e. 1000)");
        }
        SpecBuilder.validateSysctls(host.sysctlsOrEmpty(), host.networkMode());
        String parent = host.cgroupParent();
        if (parent != null && !parent.isEmpty() && (!parent.matches("[A-Za-z0-9_.@/-]+") || List.of(parent.split("/")).contains("..")
                || parent.replace("/", "").isEmpty())) {
            throw EngineException.invalid("invalid cgroup parent \"" + parent + "\": a path of names below each controller's root");
        }
        if (host.shmSize() < 0) {
            throw EngineException.invalid("SHM size can not be less than 0");
        }
        if (host.oomScoreAdj() < -1000 || host.oomScoreAdj() > 1000) {
            throw EngineException.invalid("Invalid value " + host.oomScoreAdj() + ", range for oom score adj is [-1000, 1000]");
        }
        if (host.memorySwappiness() != null && host.memorySwappiness() != -1
                && (host.memorySwappiness() < 0 || host.memorySwappiness() > 100)) {
            throw EngineException.invalid("Invalid value: " + host.memorySwappiness() + ", valid memory swappiness range is 0-100");
        }
        if (host.memoryReservation() < 0 || host.memoryReservation() > 0 && host.memoryReservation() < 6L << 20) {
            throw EngineException.invalid("Minimum memory reservation allowed is 6MB");
        }
        if (host.memory() > 0 && host.memoryReservation() > host.memory()) {
            throw EngineException.invalid("Minimum memory limit can not be less than memory reservation limit, see usage");
        }
        if (host.memory() > 1L << 50) {
            throw EngineException.invalid("memory limit " + host.memory() + " is larger than any machine");
        }
    }

    // ------------------------------------------------------------------ networks

    /** Whether the container joins bridge networks (not none, the host's, or another container's namespace). */
    static boolean onBridge(ContainerSpec.Host host) {
        String mode = host.networkMode();
        return mode != null && !mode.isEmpty() && !mode.equals("none") && !mode.equals("host") && !mode.startsWith("container:");
    }

    /**
     * {@code --network container:X}: X (null when there is none yet), after dockerd's checks of what cannot go with a
     * shared namespace (the joined container's hostname, /etc/hosts, resolv.conf and ports are used).
     */
    private ContainerRecord sharedNetwork(ContainerSpec spec) {
        String mode = spec.host().networkMode();
        if (mode == null || !mode.startsWith("container:")) {
            return null;
        }
        String ref = mode.substring("container:".length());
        if (ref.isEmpty()) {
            throw EngineException.invalid("Invalid network mode: invalid container format container:<name|id>");
        }
        ContainerSpec.Net net = spec.host().net() == null ? ContainerSpec.Net.NONE : spec.host().net();
        ContainerSpec.Resolution r = net.resolutionOrNone();
        String conflict = spec.hostname() != null && !spec.hostname().isEmpty() ? "conflicting options: hostname and the network mode"
                : !net.linksOrEmpty().isEmpty() ? "conflicting options: container type network can't be used with links."
                        + " This would result in undefined behavior"
                : !r.dns().isEmpty() ? "conflicting options: dns and the network mode"
                : !r.extraHosts().isEmpty() ? "conflicting options: custom host-to-IP mapping and the network mode"
                : net.endpointsOrEmpty().stream().anyMatch(e -> e.mac() != null && !e.mac().isEmpty())
                        ? "conflicting options: mac-address and the network mode"
                : !net.portsOrEmpty().isEmpty() || net.publishAll() ? "conflicting options: port publishing and the container type network mode"
                : !net.exposedOrEmpty().isEmpty() ? "conflicting options: port exposing and the container type network mode"
                : net.endpointsOrEmpty().stream().anyMatch(e -> !e.network().equals(mode) && !e.network().equals("default")
                        || !e.aliasesOrEmpty().isEmpty() || e.ipv4() != null && !e.ipv4().isEmpty())
                        ? "container sharing network namespace with another container or host cannot be connected to any other network"
                : null;
        if (conflict != null) {
            throw EngineException.invalid(conflict);
        }
        try {
            return store.resolve(ref);
        } catch (EngineException e) {
            if (e.kind() == ErrorKind.NOT_FOUND) {
                return null; // as dockerd: not checked at create (X may be created after); the start fails without X
            }
            throw e;
        }
    }

    /**
     * The network mode checked against the networks there are (404 for a missing one, as dockerd), the
     * image's exposed ports added to the container's, the endpoints asked for on each network (the mode's
     * and, as dockerd from API 1.44, others given at create) and the legacy links.
     */
    private ContainerSpec.Host withNetwork(ContainerSpec.Host host, JsonNode imageConfig, ContainerRecord sharedNetwork) {
        String mode = host.networkMode() == null || host.networkMode().isEmpty() ? "none" : host.networkMode();
        if (mode.equals("bridge") && networks.find("bridge") == null) {
            mode = "none"; // the daemon has no bridge (--bridge none): the default network is none, as before
            host = host.toBuilder().networkMode(mode).build();
        }
        ContainerSpec.Net net = host.net() == null ? ContainerSpec.Net.NONE : host.net();
        java.util.LinkedHashSet<String> exposed = new java.util.LinkedHashSet<>(net.exposedOrEmpty());
        JsonNode imagePorts = imageConfig.get("ExposedPorts");
        if (imagePorts != null && imagePorts.isObject()) {
            imagePorts.fieldNames().forEachRemaining(p -> exposed.add(p.contains("/") ? p : p + "/tcp"));
        }
        if (mode.startsWith("container:")) {
            // named by full ID when it exists (a rename does not change what is joined), as the pid and ipc modes
            return host.toBuilder().networkMode(sharedNetwork != null ? "container:" + sharedNetwork.id() : mode)
                    .net(net.withEndpoints(List.of(), false).withExposed(List.copyOf(exposed))).build();
        }
        if (!onBridge(host)) {
            for (EndpointRequest e : net.endpointsOrEmpty()) {
                if (!e.network().equals(mode) && !e.network().equals("default")) {
                    throw EngineException.invalid(mode.equals("host")
                            ? "container cannot be disconnected from host network or connected to host network"
                            : "container cannot be connected to multiple networks with one of the networks in private (none) mode");
                }
                if (!e.aliasesOrEmpty().isEmpty() || e.ipv4() != null && !e.ipv4().isEmpty()) {
                    throw EngineException.invalid("user specified IP address and aliases are supported only for user defined networks");
                }
            }
            if (!net.linksOrEmpty().isEmpty()) {
                throw EngineException.invalid(mode.equals("host")
                        ? "conflicting options: host type networking can't be used with links. This would result in undefined behavior"
                        : "conflicting options: links need a bridge network (network mode " + mode + ")");
            }
            // as dockerd: the bindings are kept as given (inspect shows them) but only a bridge network publishes
            // ports (on the host's network they are the host's already; on none there is nothing to reach)
            return host.toBuilder().net(net.withExposed(List.copyOf(exposed))).build();
        }
        NetworkRecord n = networks.get(mode);
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (EndpointRequest e : net.endpointsOrEmpty()) {
            NetworkRecord other = e.network().equals("default") ? n : networks.get(e.network());
            if (!seen.add(other.id())) {
                throw EngineException.invalid("network " + other.name() + " is given twice");
            }
            if (other.isDefault() && (e.ipv4() != null && !e.ipv4().isEmpty() || !e.aliasesOrEmpty().isEmpty())) {
                throw EngineException.invalid("user specified IP address and aliases are supported only for user defined networks");
            }
        }
        return host.toBuilder().net(net.withExposed(List.copyOf(exposed)).withLinks(links(net.linksOrEmpty()))).build();
    }

    /**
     * Legacy links checked (dockerd's words) and named by the linked container's full ID, so that a rename
     * keeps them: the linked container must exist and not be on the host's network; an alias once.
     */
    private List<ContainerSpec.Link> links(List<ContainerSpec.Link> given) {
        List<ContainerSpec.Link> out = new ArrayList<>();
        java.util.Set<String> aliases = new java.util.HashSet<>();
        for (ContainerSpec.Link l : given) {
            ContainerRecord child;
            try {
                child = store.resolve(l.container());
            } catch (EngineException e) {
                // 400, not 404 (as dockerd since moby#39823: a 404 makes clients report a missing image and pull)
                throw e.kind() == ErrorKind.NOT_FOUND ? EngineException.invalid("could not get container for " + l.container() + ": "
                        + e.getMessage()) : e;
            }
            if ("host".equals(child.spec().host().networkMode())) {
                throw EngineException.invalid("conflicting options: host type networking can't be used with links."
                        + " This would result in undefined behavior");
            }
            if (!aliases.add(l.alias().toLowerCase(java.util.Locale.ROOT))) {
                throw EngineException.conflict("Conflict. The link alias " + l.alias() + " is given twice");
            }
            out.add(new ContainerSpec.Link(child.id(), l.alias()));
        }
        return out;
    }

    /**
     * The endpoints a starting container asks for: its network mode's first (eth0: the default route),
     * with the settings given for it, then every network connected since (docker network connect).
     */
    List<EndpointRequest> endpoints(ContainerSpec spec) {
        String mode = spec.host().networkMode();
        NetworkRecord primary = networks.get(mode);
        EndpointRequest first = new EndpointRequest(mode, List.of(), null, null);
        List<EndpointRequest> others = new ArrayList<>();
        for (EndpointRequest e : spec.netOrNone().endpointsOrEmpty()) {
            NetworkRecord n = e.network().equals("default") ? primary : networks.find(e.network());
            if (n != null && n.id().equals(primary.id())) {
                first = new EndpointRequest(mode, e.aliasesOrEmpty(), e.ipv4(), e.mac());
            } else if (n != null) {
                others.add(e);
            } else {
                throw EngineException.notFound("network " + e.network() + " not found");
            }
        }
        List<EndpointRequest> all = new ArrayList<>();
        if (!spec.netOrNone().modeDisconnected()) {
            all.add(first); // disconnected by docker network disconnect: its network stays the mode, without an endpoint
        }
        all.addAll(others);
        return all;
    }

    /** The ports to publish: those bound explicitly, and with -P every other exposed port on an ephemeral host port. */
    List<PortBinding> publishedPorts(ContainerSpec spec) {
        ContainerSpec.Net net = spec.netOrNone();
        List<PortBinding> out = new ArrayList<>(net.portsOrEmpty());
        if (net.publishAll()) {
            for (String p : net.exposedOrEmpty()) {
                String[] pp = p.split("/");
                int port = Integer.parseInt(pp[0]);
                String proto = pp.length > 1 ? pp[1] : "tcp";
                if (out.stream().noneMatch(b -> b.containerPort() == port && b.protocol().equals(proto))) {
                    out.add(new PortBinding(port, proto, "", ""));
                }
            }
        }
        return out;
    }

    /** The host's resolv.conf: its nameservers (loopback ones left out: unreachable from a container) and search domains. */
    private static List<List<String>> hostResolv() throws IOException {
        List<String> search = new ArrayList<>();
        List<String> servers = new ArrayList<>();
        if (Files.exists(Path.of("/etc/resolv.conf"))) {
            for (String line : Files.readAllLines(Path.of("/etc/resolv.conf"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 2 && (f[0].equals("search") || f[0].equals("domain"))) {
                    search.addAll(List.of(f).subList(1, f.length));
                } else if (f.length >= 2 && f[0].equals("nameserver") && !f[1].startsWith("127.") && !f[1].equals("::1")) {
                    servers.add(f[1]);
                }
            }
        }
        return List.of(servers, search);
    }

    /**
     * /etc/resolv.conf: the embedded DNS on user-defined networks (as dockerd's: ndots:0 unless options say
     * otherwise), else the container's --dns, the daemon's, or the host's resolvers; the container's search
     * domains and options, else the host's search domains.
     */
    static void writeResolv(Path etc, boolean embedded, Networks.Options options, ContainerSpec.Resolution r) throws IOException {
        List<List<String>> host = hostResolv();
        StringBuilder out = new StringBuilder();
        List<String> servers = embedded ? List.of(io.dockgate.engine.net.EmbeddedDns.ADDRESS)
                : !r.dns().isEmpty() ? r.dns() : options != null && options.dns() != null && !options.dns().isEmpty() ? options.dns()
                : host.get(0);
        servers.forEach(s -> out.append("nameserver ").append(s).append('\n'));
        List<String> search = !r.search().isEmpty() ? r.search() : host.get(1);
        if (!search.isEmpty()) {
            out.append("search ").append(String.join(" ", search)).append('\n');
        }
        List<String> opts = new ArrayList<>(r.options());
        if (embedded && opts.stream().noneMatch(o -> o.startsWith("ndots:"))) {
            opts.add(0, "ndots:0");
        }
        if (!opts.isEmpty()) {
            out.append("options ").append(String.join(" ", opts)).append('\n');
        }
        AtomicFiles.writeUnsynced(etc.resolve("resolv.conf"), out.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                AtomicFiles.PUBLIC);
    }

    /** The extra /etc/hosts lines (--add-host), host-gateway as the given address. */
    private static String extraHosts(ContainerSpec.Resolution r, String hostGateway) {
        StringBuilder out = new StringBuilder();
        for (String e : r.extraHosts()) {
            int colon = e.indexOf(':');
            int at = colon > 0 ? colon : e.indexOf('=');
            String address = e.substring(at + 1);
            if (address.equals("host-gateway")) {
                if (hostGateway == null) {
                    throw EngineException.invalid("unable to derive the IP value for host-gateway: the daemon has no default bridge");
                }
                address = hostGateway;
            }
            out.append(address).append('\t').append(e, 0, at).append('\n');
        }
        return out.toString();
    }

    /** The address host-gateway means: the default bridge's gateway (a host address every container reaches), else none. */
    String hostGateway() {
        NetworkRecord bridge = networks.find("bridge");
        return bridge != null && bridge.isDefault() ? bridge.gateway() : null;
    }

    /** /etc/hosts of a container on a bridge network: localhost, the extra hosts, its links, its address with its hostname. */
    static void writeHosts(Path etc, String hostname, NetworkState net, ContainerSpec.Resolution r, String hostGateway, String linkLines)
            throws IOException {
        StringBuilder hosts = new StringBuilder("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                + "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n");
        hosts.append(extraHosts(r, hostGateway)).append(linkLines);
        for (io.dockgate.engine.net.Endpoint e : net.endpointsOrEmpty()) {
            hosts.append(e.ip()).append('\t').append(hostname).append('\n');
        }
        AtomicFiles.writeUnsynced(etc.resolve("hosts"), hosts.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8), AtomicFiles.PUBLIC);
    }

    /**
     * Checks the pid, ipc and uts modes (dockerd's choices) and names a joined container by its full ID, so
     * that a rename does not change what is joined; the container must exist (404 otherwise).
     */
    private ContainerSpec.Host resolveNamespaces(ContainerSpec.Host host, String hostname) {
        ContainerSpec.HostBuilder b = host.toBuilder();
        for (String ns : List.of("pid", "ipc", "uts")) {
            String mode = host.namespaceMode(ns);
            String raw = ns.equals("pid") ? host.pidMode() : ns.equals("ipc") ? host.ipcMode() : host.utsMode();
            boolean allowed = mode.isEmpty() && (raw == null || raw.isEmpty() || ns.equals("ipc"))
                    || mode.equals("host") || mode.startsWith("container:") && !ns.equals("uts");
            if (!allowed) {
                throw EngineException.invalid("invalid " + ns.toUpperCase(java.util.Locale.ROOT) + " mode: " + raw);
            }
            if (mode.startsWith("container:")) {
                String target = store.resolve(mode.substring("container:".length())).id();
                String resolved = "container:" + target;
                switch (ns) {
                    case "pid" -> b.pidMode(resolved);
                    case "ipc" -> b.ipcMode(resolved);
                    default -> { }
                }
            }
        }
        if (host.namespaceMode("uts").equals("host") && hostname != null && !hostname.isEmpty()) {
            throw EngineException.invalid("Conflicting options: hostname and the UTS mode");
        }
        for (ContainerSpec.Device d : host.devicesOrEmpty()) {
            io.dockgate.engine.oci.HostDevice.checkPermissions(d.permissions(), d.pathOnHost());
            io.dockgate.engine.oci.HostDevice.of(d.pathOnHost());
            if (!d.pathInContainer().startsWith("/")) {
                throw EngineException.invalid(d.pathInContainer() + " is not an absolute path");
            }
        }
        host.deviceCgroupRulesOrEmpty().forEach(io.dockgate.engine.oci.HostDevice::rule);
        if (host.init()) {
            SpecBuilder.initBinary(); // refused now, not at start, when it is missing
        }
        return b.build();
    }

    /**
     * {@code --volumes-from C[:ro|rw]}: C's bind mounts and volumes, at the same targets, read-only or not
     * as C has them unless the suffix says; a target the new container mounts itself keeps its own mount.
     */
    private ContainerSpec.Host withMountsFrom(ContainerSpec.Host host) {
        if (host.volumesFromOrEmpty().isEmpty()) {
            return host;
        }
        List<ContainerSpec.Mount> mounts = new ArrayList<>(host.mountsOrEmpty());
        java.util.Set<String> taken = new java.util.HashSet<>(host.tmpfs() == null ? java.util.Set.of() : host.tmpfs().keySet());
        mounts.forEach(m -> taken.add(Path.of(m.target()).normalize().toString()));
        for (String entry : host.volumesFromOrEmpty()) {
            VolumesFrom from = VolumesFrom.parse(entry);
            ContainerRecord source = store.resolve(from.container());
            for (ContainerSpec.Mount m : source.spec().host().mountsOrEmpty()) {
                if (taken.add(Path.of(m.target()).normalize().toString())) {
                    mounts.add(new ContainerSpec.Mount(m.type(), m.source(), m.target(), from.mode() == null ? m.readOnly() : from.mode().equals("ro")));
                }
            }
        }
        return host.toBuilder().mounts(mounts).build();
    }

    /** The namespaces a starting container joins: type to /proc/PID/ns/TYPE of the running container it names. */
    Map<String, String> joinedNamespaces(ContainerSpec.Host host) {
        Map<String, String> joined = new LinkedHashMap<>();
        for (String ns : List.of("pid", "ipc")) {
            String mode = host.namespaceMode(ns);
            if (mode.startsWith("container:")) {
                ContainerRecord target = store.get(mode.substring("container:".length()));
                if (target == null || !target.status().state().hasProcess() || target.status().pid() <= 0) {
                    throw EngineException.conflict("cannot join " + ns.toUpperCase(java.util.Locale.ROOT) + " of a non running container: "
                            + mode.substring("container:".length()));
                }
                joined.put(ns, "/proc/" + target.status().pid() + "/ns/" + ns);
            }
        }
        return joined;
    }

    /** Adds NAME=value (or a bare NAME) to an environment, the later entry winning. */
    static void putEnv(Map<String, String> env, String entry) {
        int eq = entry.indexOf('=');
        if (eq <= 0) {
            env.put(entry, null);
        } else {
            env.put(entry.substring(0, eq), entry.substring(eq + 1));
        }
    }

    private static List<String> strings(JsonNode node) {
        List<String> list = new ArrayList<>();
        if (node != null && node.isArray()) {
            node.forEach(n -> list.add(n.asText()));
        }
        return list;
    }

    /** The container's /etc/hostname, hosts and resolv.conf (bind-mounted at start; rewritten there on a bridge network). */
    static void writeEtc(Path etc, String hostname, boolean hostNetwork, ContainerSpec.Resolution r, String hostGateway)
            throws IOException {
        // Regenerable (start rewrites an empty one): renamed into place without fsync.
        AtomicFiles.writeUnsynced(etc.resolve("hostname"), (hostname + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8),
                AtomicFiles.PUBLIC);
        String hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
        if (!hostNetwork) {
            hosts += "127.0.0.1\t" + hostname + "\n";
        } else if (Files.exists(Path.of("/etc/hosts"))) {
            hosts = Files.readString(Path.of("/etc/hosts"));
        }
        hosts += extraHosts(r, hostGateway);
        AtomicFiles.writeUnsynced(etc.resolve("hosts"), hosts.getBytes(java.nio.charset.StandardCharsets.UTF_8), AtomicFiles.PUBLIC);
        writeResolv(etc, false, null, r);
    }
}
