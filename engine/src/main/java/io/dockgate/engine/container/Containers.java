package io.dockgate.engine.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.files.AtomicFiles;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.image.Image;
import io.dockgate.engine.image.ImageStore;
import io.dockgate.engine.image.LayerStore;
import io.dockgate.engine.oci.SpecBuilder;
import io.dockgate.engine.oci.UserResolver;
import io.dockgate.engine.runtime.Runc;
import io.dockgate.engine.shim.Conmon;
import io.dockgate.engine.shim.ExitWatcher;
import io.dockgate.engine.snapshot.SnapshotService;
import io.dockgate.engine.sys.Syscalls;
import io.dockgate.engine.events.Events;
import io.dockgate.engine.fs.Trash;
import io.dockgate.engine.volume.Volume;
import io.dockgate.engine.volume.VolumeStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The container service: create, start, stop, kill, remove, wait, with persisted state and guarded
 * transitions. Processes run under conmon (one per container) and runc; exits arrive through conmon's
 * exit files, so they are recorded even when they happen while the daemon is down, and {@link #recover}
 * re-adopts running containers at start. Blocking methods: call them from worker threads.
 */
public final class Containers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Containers.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ContainerStore store;
    private final ImageStore images;
    private final VolumeStore volumes;
    private final Events events;
    private final SnapshotService snapshots;
    private final Runc runc;
    private final Conmon conmon;
    private final Path bundles;
    private final ExitWatcher watcher;
    private final Execs execs;
    private final RestartPolicies restarts;
    private final ExecutorService background = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "dockgate-containers");
        t.setDaemon(true);
        return t;
    });
    /** One timer thread for restarts and log rotation. */
    private final java.util.concurrent.ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "dockgate-timer");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Object> locks = new ConcurrentHashMap<>();
    private final Map<String, List<Waiter>> waiters = new ConcurrentHashMap<>();
    private final Map<String, Integer> attached = new ConcurrentHashMap<>();
    private final Map<String, Boolean> removeWhenDetached = new ConcurrentHashMap<>();

    private final Map<String, List<PendingAttach>> pendingAttach = new ConcurrentHashMap<>();

    private record Waiter(String condition, CompletableFuture<ContainerRecord> future) {
    }

    private record PendingAttach(Attachment.Streams streams, Attachment.Sink sink, CompletableFuture<Attachment> future) {
    }

    public Containers(Path dataRoot, Path execRoot, ImageStore images, VolumeStore volumes, SnapshotService snapshots, Runc runc,
                      Path conmonBinary, Events events) throws IOException {
        this.events = events;
        this.store = new ContainerStore(dataRoot);
        this.volumes = volumes;
        volumes.setUsers(name -> store.all().stream()
                .filter(c -> c.spec().host().mountsOrEmpty().stream()
                        .anyMatch(m -> m.type().equals(ContainerSpec.Mount.VOLUME) && m.source().equals(name)))
                .map(ContainerRecord::id).toList());
        this.images = images;
        this.snapshots = snapshots;
        this.runc = runc;
        this.bundles = execRoot.resolve("containers");
        Files.createDirectories(bundles);
        Trash.sweep(bundles);
        this.conmon = new Conmon(conmonBinary, runc, execRoot.resolve("exits"));
        this.execs = new Execs(this, execRoot, conmon, background);
        this.restarts = new RestartPolicies(this, store, background, timer);
        LogRotation rotation = new LogRotation(store, () -> bundles::resolve);
        timer.scheduleWithFixedDelay(rotation::check, 250, 250, TimeUnit.MILLISECONDS);
        this.watcher = new ExitWatcher(conmon.exits(), id -> background.execute(() -> handleExit(id)));
        images.setUsage(imageId -> store.all().stream().filter(c -> c.imageId().equals(imageId.toString()))
                .map(c -> new ImageStore.ImageUsage.User(c.id(), c.status().state().active())).toList());
    }

    /** Emits a container event with Docker's attributes: image, name, the labels, and the action's own. */
    void emit(ContainerRecord c, String action, String... extra) {
        Map<String, String> attrs = new java.util.TreeMap<>(c.spec().labels() == null ? Map.of() : ContainerSpec.visibleLabels(c.spec().labels()));
        attrs.put("image", c.imageRef());
        attrs.put("name", c.name().startsWith("/") ? c.name().substring(1) : c.name());
        attrs.putAll(Events.attributes(extra));
        events.emit("container", action, c.id(), attrs, c.spec().labels() == null ? Map.of() : c.spec().labels());
    }

    private void emitVolumes(ContainerRecord c, String action) {
        for (ContainerSpec.Mount m : c.spec().host().mountsOrEmpty()) {
            if (m.type().equals(ContainerSpec.Mount.VOLUME)) {
                events.emit("volume", action, m.source(), action.equals("mount")
                        ? Events.attributes("container", c.id(), "destination", m.target(), "driver", "local", "propagation", "",
                        "read/write", Boolean.toString(!m.readOnly()))
                        : Events.attributes("container", c.id(), "driver", "local"),
                        c.spec().labels() == null ? Map.of() : c.spec().labels()); // the container's owner mounted it
            }
        }
    }

    /** docker exec sessions. */
    public Execs execs() {
        return execs;
    }

    Path bundle(String id) {
        return bundles.resolve(id);
    }

    public ContainerStore store() {
        return store;
    }

    Object lock(String id) {
        return locks.computeIfAbsent(id, k -> new Object());
    }

    // ------------------------------------------------------------------ create

    public ContainerRecord create(String name, ContainerSpec spec) throws IOException {
        Image image = images.resolve(spec.image());
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
            String hostname = spec.hostname() == null || spec.hostname().isEmpty() ? id.substring(0, 12) : spec.hostname();
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
            host = host.toBuilder().mounts(resolveMounts(host, labels.get(ContainerSpec.OWNER_LABEL))).build();
            SpecBuilder.capabilities(host); // refuses unknown capability names now, not at start
            String workingDir = spec.workingDir() != null && !spec.workingDir().isEmpty() ? spec.workingDir() : ic.path("WorkingDir").asText("");
            String user = spec.user() != null && !spec.user().isEmpty() ? spec.user() : ic.path("User").asText("");
            String stopSignal = spec.stopSignal() != null && !spec.stopSignal().isEmpty() ? spec.stopSignal() : ic.path("StopSignal").asText("");
            if (!stopSignal.isEmpty()) {
                Signals.parse(stopSignal);
            }
            ContainerSpec merged = new ContainerSpec(spec.image(), entrypoint, cmd, envList, workingDir, user, hostname, labels,
                    spec.tty(), spec.openStdin(), spec.stdinOnce(), stopSignal, spec.stopTimeout(), host, spec.shown());
            Path dir = store.directory(id);
            Files.createDirectories(dir.resolve("etc"));
            writeEtc(dir.resolve("etc"), hostname, "host".equals(host.networkMode()));
            snapshots.prepare(id, images.layersOf(image));
            ContainerRecord record = new ContainerRecord(id, reserved, Instant.now().toString(), image.id().toString(), spec.image(),
                    merged, argv.get(0), List.copyOf(argv.subList(1, argv.size())), ContainerRecord.Status.created(), 0,
                    dir.resolve("container.log").toString());
            store.save(record);
            emit(record, "create");
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

    /** Checks bind sources and mount targets, and creates the named (or anonymous) volumes that are missing. */
    /** Resolves mounts; volumes created on the way belong to the container's owner (when it has one). */
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
    private String hostPath(ContainerSpec.Mount m, Path rootfs) {
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

    private static void validate(ContainerSpec.Host host) {
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
        String mode = host.networkMode() == null || host.networkMode().isEmpty() ? "none" : host.networkMode();
        if (!mode.equals("none") && !mode.equals("host") && !mode.equals("default")) {
            throw EngineException.invalid("network mode \"" + mode + "\" is not supported: use none or host");
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
            FromSpec from = FromSpec.parse(entry);
            ContainerRecord source = store.resolve(from.container());
            for (ContainerSpec.Mount m : source.spec().host().mountsOrEmpty()) {
                if (taken.add(Path.of(m.target()).normalize().toString())) {
                    mounts.add(new ContainerSpec.Mount(m.type(), m.source(), m.target(), from.mode() == null ? m.readOnly() : from.mode().equals("ro")));
                }
            }
        }
        return host.toBuilder().mounts(mounts).build();
    }

    /** One entry of VolumesFrom: a container and an optional mode, ro or rw. */
    public record FromSpec(String container, String mode) {
        public static FromSpec parse(String entry) {
            int colon = entry.lastIndexOf(':');
            String container = colon > 0 ? entry.substring(0, colon) : entry;
            String mode = colon > 0 ? entry.substring(colon + 1) : null;
            if (container.isEmpty() || mode != null && !mode.equals("ro") && !mode.equals("rw")) {
                throw EngineException.invalid("invalid mode for volumes-from: " + entry);
            }
            return new FromSpec(container, mode);
        }
    }

    /** The namespaces a starting container joins: type to /proc/PID/ns/TYPE of the running container it names. */
    private Map<String, String> joinedNamespaces(ContainerSpec.Host host) {
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

    private static void writeEtc(Path etc, String hostname, boolean hostNetwork) throws IOException {
        // Regenerable (start rewrites an empty one): renamed into place without fsync.
        AtomicFiles.writeUnsynced(etc.resolve("hostname"), (hostname + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8),
                AtomicFiles.PUBLIC);
        String hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
        if (!hostNetwork) {
            hosts += "127.0.0.1\t" + hostname + "\n";
        } else if (Files.exists(Path.of("/etc/hosts"))) {
            hosts = Files.readString(Path.of("/etc/hosts"));
        }
        AtomicFiles.writeUnsynced(etc.resolve("hosts"), hosts.getBytes(java.nio.charset.StandardCharsets.UTF_8), AtomicFiles.PUBLIC);
        String resolv = "";
        if (Files.exists(Path.of("/etc/resolv.conf"))) {
            StringBuilder sb = new StringBuilder();
            for (String line : Files.readAllLines(Path.of("/etc/resolv.conf"))) {
                if (!(line.startsWith("nameserver 127.") || line.startsWith("nameserver ::1"))) {
                    sb.append(line).append('\n');
                }
            }
            resolv = sb.toString();
        }
        AtomicFiles.writeUnsynced(etc.resolve("resolv.conf"), resolv.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                AtomicFiles.PUBLIC);
    }

    // ------------------------------------------------------------------ start

    public ContainerRecord start(String ref) throws IOException {
        ContainerRecord c = store.resolve(ref);
        restarts.userStarted(c.id());
        try {
            return startProcess(c.id());
        } catch (IOException | RuntimeException e) {
            if (c.spec().host().autoRemove() && !(e instanceof EngineException ee && ee.kind() == ErrorKind.NOT_MODIFIED)) {
                autoRemove(c.id()); // as dockerd: a --rm container whose start failed is removed (docker run waits for that)
            }
            throw e;
        }
    }

    /** Starts the container's process (a user's start, or a restart by the policy). */
    ContainerRecord startProcess(String id) throws IOException {
        ContainerRecord c = store.resolve(id);
        synchronized (lock(c.id())) {
            c = store.get(c.id());
            if (c.status().state() == ContainerState.RUNNING || c.status().state() == ContainerState.PAUSED) {
                throw new EngineException(ErrorKind.NOT_MODIFIED, "container already started");
            }
            c.status().state().to(ContainerState.RUNNING, "start");
            Path rootfs = snapshots.mount(c.id());
            Path bundle = bundles.resolve(c.id());
            try {
                Files.createDirectories(bundle);
                Path etc = store.directory(c.id()).resolve("etc");
                if (!Files.exists(etc.resolve("hostname")) || Files.size(etc.resolve("hostname")) == 0) {
                    writeEtc(etc, c.spec().hostname(), "host".equals(c.spec().host().networkMode())); // lost in a crash
                }
                UserResolver.User user = UserResolver.withGroups(rootfs, UserResolver.resolve(rootfs, c.spec().user()),
                        c.spec().host().groupAddOrEmpty());
                ObjectNode config = SpecBuilder.build(c, rootfs, store.directory(c.id()).resolve("etc"), user, m -> hostPath(m, rootfs),
                        joinedNamespaces(c.spec().host()));
                AtomicFiles.writeUnsynced(bundle.resolve("config.json"), JSON.writeValueAsBytes(config), AtomicFiles.PRIVATE);
                runc.delete(c.id());
                Path log = c.spec().host().logOrDefault().keepsNothing() ? Path.of("/dev/null") : Path.of(c.logPath());
                Conmon.Created created = conmon.create(c.id(), c.name().substring(1), bundle, log,
                        LogRotation.conmonLimit(c.spec().host().logOrDefault()),
                        new Conmon.Stdio(c.spec().tty(), c.spec().openStdin(), c.spec().stdinOnce()));
                ContainerRecord running = c.withStatus(new ContainerRecord.Status(ContainerState.RUNNING, created.pid(),
                        created.conmonPid(), 0, Instant.now().toString(), c.status().finishedAt(), false, "", false));
                store.save(running);
                connectPending(c.id());
                runc.start(c.id());
                emitVolumes(running, "mount");
                emit(running, "start");
                return running;
            } catch (Conmon.RuntimeFailure e) {
                failStart(c, bundle, e.getMessage());
                throw new EngineException(ErrorKind.RUNTIME, "OCI runtime create failed: " + e.getMessage() + ": unknown", e);
            } catch (IOException | RuntimeException e) {
                failStart(c, bundle, e.getMessage());
                throw e;
            }
        }
    }

    private void failStart(ContainerRecord c, Path bundle, String error) {
        try {
            runc.delete(c.id());
            snapshots.unmount(c.id());
            io.dockgate.files.FileTrees.delete(bundle);
            ContainerRecord.Status s = c.status();
            ContainerState state = s.state() == ContainerState.CREATED ? ContainerState.CREATED : ContainerState.EXITED;
            store.save(c.withStatus(new ContainerRecord.Status(state, 0, 0, state == ContainerState.CREATED ? 0 : 128,
                    s.startedAt(), s.finishedAt(), false, error, false)));
        } catch (IOException | RuntimeException cleanup) {
            LOG.warn("cleanup after a failed start of {}: {}", c.id(), cleanup.toString());
        }
    }

    // ------------------------------------------------------------------ exit

    /** Called when conmon wrote an exit file (or at recovery). */
    void handleExit(String id) {
        synchronized (lock(id)) {
            ContainerRecord c = store.get(id);
            if (c == null || !c.status().state().hasProcess()) {
                return;
            }
            try {
                Integer code = conmon.exitCode(id);
                if (code == null) {
                    return; // the file is being written: a MODIFY event follows
                }
                Path bundle = bundles.resolve(id);
                boolean oom = Files.exists(bundle.resolve("oom"));
                finishExit(c, code, oom, "");
                if (restarts.afterExit(store.get(id))) {
                    return;
                }
            } catch (IOException | RuntimeException e) {
                LOG.error("recording the exit of {} failed", id, e);
            }
        }
        ContainerRecord after = store.get(id);
        if (after != null && after.spec().host().autoRemove()) {
            synchronized (attached) {
                if (attached.getOrDefault(id, 0) > 0) {
                    removeWhenDetached.put(id, true); // the attached client reads the last output first
                    return;
                }
            }
            autoRemove(id);
        }
    }

    private void autoRemove(String id) {
        try {
            remove(id, true);
        } catch (IOException | RuntimeException e) {
            LOG.warn("auto-remove of {} failed: {}", id, e.toString());
        }
    }

    /**
     * Attaches a client to the container's streams through conmon's attach socket. A running container
     * is attached at once; a created or stopped one when it next starts, between {@code runc create} and
     * {@code runc start}, so no output is lost (docker run attaches before it starts). Cancel the future
     * to give up waiting. While attached, an auto-remove waits for the client to read the last output.
     */
    public CompletableFuture<Attachment> attach(String ref, Attachment.Streams streams, Attachment.Sink sink) {
        ContainerRecord c = store.resolve(ref);
        CompletableFuture<Attachment> future = new CompletableFuture<>();
        synchronized (lock(c.id())) {
            ContainerRecord now = store.get(c.id());
            if (now == null) {
                throw EngineException.notFound("No such container: " + ref);
            }
            if (now.status().state().hasProcess()) {
                connect(now.id(), new PendingAttach(streams, sink, future));
            } else {
                pendingAttach.computeIfAbsent(now.id(), k -> new CopyOnWriteArrayList<>()).add(new PendingAttach(streams, sink, future));
            }
        }
        return future;
    }

    private void connect(String id, PendingAttach p) {
        if (p.future().isDone()) {
            return; // cancelled by its client
        }
        ContainerRecord record = store.get(id);
        if (record != null) {
            emit(record, "attach");
        }
        synchronized (attached) {
            attached.merge(id, 1, Integer::sum);
        }
        Attachment.Sink counted = new Attachment.Sink() {
            @Override
            public void output(int stream, byte[] data, int offset, int length) throws IOException {
                p.sink().output(stream, data, offset, length);
            }

            @Override
            public void end() {
                try {
                    p.sink().end();
                } finally {
                    detach(id);
                }
            }
        };
        try {
            p.future().complete(Attachment.open(bundles.resolve(id).resolve("attach"), p.streams(), counted, background, null));
        } catch (IOException | RuntimeException e) {
            detach(id);
            p.future().completeExceptionally(e);
        }
    }

    private void connectPending(String id) {
        List<PendingAttach> list = pendingAttach.remove(id);
        if (list != null) {
            list.forEach(p -> connect(id, p));
        }
    }

    /** The container is gone: clients still waiting for its start are let go, with nothing to read (as dockerd ends them). */
    private void endPending(String id) {
        List<PendingAttach> list = pendingAttach.remove(id);
        if (list != null) {
            list.forEach(p -> p.future().cancel(false));
        }
    }

    /** An attached client's stream ended; performs a deferred auto-removal. */
    private void detach(String id) {
        boolean remove;
        synchronized (attached) {
            int left = attached.merge(id, -1, Integer::sum);
            if (left <= 0) {
                attached.remove(id);
            }
            remove = left <= 0 && removeWhenDetached.remove(id) != null;
        }
        if (remove) {
            background.execute(() -> autoRemove(id));
        }
    }

    /** Sets the terminal size of a TTY container (conmon's control FIFO). */
    public void resize(String ref, int height, int width) throws IOException {
        ContainerRecord c = store.resolve(ref);
        if (!c.status().state().hasProcess()) {
            throw EngineException.conflict("Container " + c.id() + " is not running");
        }
        resizeConsole(bundles.resolve(c.id()), height, width);
        emit(c, "resize", "height", Integer.toString(height), "width", Integer.toString(width));
    }

    static void resizeConsole(Path dir, int height, int width) throws IOException {
        if (height < 0 || width < 0 || height > 65535 || width > 65535) {
            throw EngineException.invalid("invalid terminal size " + height + "x" + width);
        }
        try {
            Syscalls.writeFifo(dir.resolve("ctl").toString(), Syscalls.bytes("1 " + height + " " + width + "\n"));
        } catch (Syscalls.ErrnoException e) {
            if (e.errno() == Syscalls.ENXIO || e.errno() == Syscalls.ENOENT) {
                throw EngineException.conflict("the process is not running");
            }
            throw e;
        }
    }

    private void finishExit(ContainerRecord c, int code, boolean oom, String error) throws IOException {
        runc.delete(c.id());
        snapshots.unmount(c.id());
        Trash.discard(bundles.resolve(c.id()));
        ContainerRecord.Status s = c.status();
        ContainerRecord exited = c.withStatus(new ContainerRecord.Status(ContainerState.EXITED, 0, 0, code, s.startedAt(),
                Instant.now().toString(), oom, error, s.stoppedByUser()));
        store.save(exited);
        execs.containerExited(c.id());
        if (oom) {
            emit(exited, "oom");
        }
        emit(exited, "die", "exitCode", Integer.toString(code));
        emitVolumes(exited, "unmount");
        notify(c.id(), exited, "next-exit", "not-running");
        LOG.info("container {} exited with {}", c.id().substring(0, 12), code);
    }

    // ------------------------------------------------------------------ stop, kill

    /** docker stop: the stop signal, then SIGKILL after the timeout. False when it was not running (304). */
    public boolean stop(String ref, Integer timeoutSeconds, String signal) throws IOException {
        ContainerRecord c = store.resolve(ref);
        restarts.cancel(c.id()); // a stopped container is not restarted by its policy
        if (c.status().state() == ContainerState.RESTARTING) {
            markStoppedByUser(c.id());
            return settleRestarting(c.id());
        }
        if (!c.status().state().hasProcess()) {
            return false;
        }
        int sig = Signals.parse(signal != null && !signal.isEmpty() ? signal
                : c.spec().stopSignal() != null && !c.spec().stopSignal().isEmpty() ? c.spec().stopSignal() : "TERM");
        int timeout = timeoutSeconds != null ? timeoutSeconds : c.spec().stopTimeout() != null ? c.spec().stopTimeout() : 10;
        CompletableFuture<ContainerRecord> exited = waitFor(c.id(), "not-running");
        markStoppedByUser(c.id());
        try {
            if (c.status().state() == ContainerState.PAUSED) {
                runc.resume(c.id());
            }
            runc.kill(c.id(), sig, false);
        } catch (EngineException e) {
            LOG.debug("stop signal to {}: {}", c.id(), e.getMessage());
        }
        awaitExit(c, exited, Math.max(0, timeout));
        emit(c, "stop");
        return true;
    }

    /** docker restart: stop (if running), then start; emits restart. */
    public ContainerRecord restart(String ref, Integer timeoutSeconds, String signal) throws IOException {
        stop(ref, timeoutSeconds, signal);
        ContainerRecord c = start(ref);
        emit(c, "restart");
        return c;
    }

    /** A restarting container whose restart was cancelled is exited again (with its last exit code). */
    private boolean settleRestarting(String id) throws IOException {
        synchronized (lock(id)) {
            ContainerRecord c = store.get(id);
            if (c == null || c.status().state() != ContainerState.RESTARTING) {
                return false;
            }
            ContainerRecord exited = c.withStatus(withState(c.status(), ContainerState.EXITED));
            store.save(exited);
            notify(id, exited, "not-running");
            return true;
        }
    }

    private void markStoppedByUser(String id) throws IOException {
        synchronized (lock(id)) {
            ContainerRecord c = store.get(id);
            ContainerRecord.Status s = c.status();
            store.save(c.withStatus(new ContainerRecord.Status(s.state(), s.pid(), s.conmonPid(), s.exitCode(), s.startedAt(),
                    s.finishedAt(), s.oomKilled(), s.error(), true)));
        }
    }

    /** docker kill: a signal to the process. Marks the container stopped by its user (unless-stopped does not restart it). */
    public void kill(String ref, String signal) throws IOException {
        ContainerRecord c = store.resolve(ref);
        int sig = Signals.parse(signal == null || signal.isEmpty() ? "KILL" : signal);
        if (c.status().state() == ContainerState.RESTARTING) {
            markStoppedByUser(c.id());
            return; // no process between runs: the policy decides at the next exit, as dockerd does
        }
        if (!c.status().state().hasProcess()) {
            throw EngineException.conflict("Cannot kill container: " + ref + ": Container " + c.id() + " is not running"); // dockerd's words
        }
        markStoppedByUser(c.id());
        CompletableFuture<ContainerRecord> exited = sig == 9 ? waitFor(c.id(), "not-running") : null;
        runc.kill(c.id(), sig, false);
        emit(c, "kill", "signal", Integer.toString(sig));
        if (exited != null && c.status().state() == ContainerState.PAUSED) {
            try {
                runc.resume(c.id()); // frozen processes die only once thawed
            } catch (EngineException e) {
                LOG.debug("thaw after SIGKILL of {}: {}", c.id(), e.getMessage()); // runc thawed it already
            }
        }
        if (exited != null) {
            awaitExit(c, exited, 10); // as dockerd: a SIGKILL returns once the container has stopped (kill, then rm)
        }
    }

    /** Waits for the container's exit to be recorded; after {@code seconds}, every process of it gets SIGKILL. */
    private void awaitExit(ContainerRecord c, CompletableFuture<ContainerRecord> exited, int seconds) throws IOException {
        try {
            exited.get(seconds, TimeUnit.SECONDS);
            return;
        } catch (java.util.concurrent.TimeoutException e) {
            try {
                runc.kill(c.id(), 9, true);
            } catch (EngineException ignored) {
                // it may have just exited
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException(e.getCause());
        }
        try {
            exited.get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new EngineException(ErrorKind.INTERNAL, "container " + c.id() + " did not exit after SIGKILL", e);
        }
    }

    // ------------------------------------------------------------------ pause, rename, top

    /** docker pause: freezes every process of the container (freezer cgroup). */
    public void pause(String ref) throws IOException {
        ContainerRecord c = store.resolve(ref);
        synchronized (lock(c.id())) {
            c = store.get(c.id());
            if (c.status().state() == ContainerState.PAUSED) {
                throw EngineException.conflict("Container " + c.id() + " is already paused");
            }
            if (c.status().state() != ContainerState.RUNNING) {
                throw EngineException.conflict("Container " + c.id() + " is not running");
            }
            c.status().state().to(ContainerState.PAUSED, "pause");
            runc.pause(c.id());
            store.save(c.withStatus(withState(c.status(), ContainerState.PAUSED)));
            emit(c, "pause");
        }
    }

    /** docker unpause. */
    public void unpause(String ref) throws IOException {
        ContainerRecord c = store.resolve(ref);
        synchronized (lock(c.id())) {
            c = store.get(c.id());
            if (c.status().state() != ContainerState.PAUSED) {
                throw EngineException.conflict("Container " + c.id() + " is not paused");
            }
            runc.resume(c.id());
            store.save(c.withStatus(withState(c.status(), ContainerState.RUNNING)));
            emit(c, "unpause");
        }
    }

    private static ContainerRecord.Status withState(ContainerRecord.Status s, ContainerState state) {
        return new ContainerRecord.Status(state, s.pid(), s.conmonPid(), s.exitCode(), s.startedAt(), s.finishedAt(), s.oomKilled(),
                s.error(), s.stoppedByUser());
    }

    /** docker rename: the new name must be free and valid. */
    public void rename(String ref, String newName) throws IOException {
        ContainerRecord c = store.resolve(ref);
        synchronized (lock(c.id())) {
            c = store.get(c.id());
            String reserved;
            try {
                reserved = store.reserveName(newName, c.id());
            } catch (EngineException e) {
                if (e.kind() == ErrorKind.CONFLICT) {
                    throw EngineException.conflict("Error when allocating new name: " + e.getMessage()); // dockerd's words
                }
                throw e;
            }
            try {
                store.save(c.withName(reserved));
                emit(c.withName(reserved), "rename", "oldName", c.name());
            } catch (IOException | RuntimeException e) {
                store.releaseName(reserved, c.id());
                throw e;
            }
        }
    }

    /** docker stats: a reading of the container's cgroups; null when it has no process (Docker then sends zeros). */
    public CgroupStats.Sample stats(String ref) throws IOException {
        ContainerRecord c = store.resolve(ref);
        if (!c.status().state().hasProcess()) {
            return null;
        }
        return CgroupStats.read(c.spec().host().cgroupPath(c.id()));
    }

    /** docker update: new resource limits (applied to a running container at once) and restart policy. */
    public ContainerRecord update(String ref, ContainerSpec.Host changes) throws IOException {
        ContainerRecord c = store.resolve(ref);
        synchronized (lock(c.id())) {
            c = store.get(c.id());
            ContainerSpec.Host h = c.spec().host();
            ContainerSpec.Host updated = h.updatedBy(changes);
            validate(updated);
            if (c.status().state().hasProcess()) {
                runc.update(c.id(), updated.memory(), updated.memory() > 0 ? SpecBuilder.swapLimit(updated) : 0, updated.cpuShares(),
                        updated.cpuQuota(), updated.cpuPeriod(), updated.pidsLimit(), updated.cpusetCpus());
            }
            ContainerRecord saved = new ContainerRecord(c.id(), c.name(), c.created(), c.imageId(), c.imageRef(),
                    c.spec().withHost(updated),
                    c.path(), c.args(), c.status(), c.restartCount(), c.logPath());
            store.save(saved);
            emit(saved, "update");
            return saved;
        }
    }

    /** The host PIDs of the container's processes (for docker top). */
    public List<Integer> pids(String ref) throws IOException {
        ContainerRecord c = store.resolve(ref);
        if (!c.status().state().hasProcess()) {
            throw EngineException.conflict("Container " + c.id() + " is not running");
        }
        List<Integer> pids = new ArrayList<>();
        for (JsonNode n : JSON.readTree(runc.ps(c.id()))) {
            pids.add(n.asInt());
        }
        return pids;
    }

    // ------------------------------------------------------------------ remove, wait

    public void remove(String ref, boolean force) throws IOException {
        remove(ref, force, false);
    }

    /** docker rm [-f] [-v]: with removeVolumes, the container's anonymous volumes go too. */
    public void remove(String ref, boolean force, boolean removeVolumes) throws IOException {
        ContainerRecord c = store.resolve(ref);
        if (c.status().state() == ContainerState.RESTARTING) {
            if (!force) {
                throw EngineException.conflict("cannot remove container \"" + c.name() + "\": container is restarting: stop the container "
                        + "before removing or force remove");
            }
            restarts.cancel(c.id());
            settleRestarting(c.id());
            c = store.get(c.id());
        }
        if (c.status().state().hasProcess()) {
            if (!force) {
                throw EngineException.conflict("cannot remove container \"" + c.name() + "\": container is " + c.status().state().wire()
                        + ": stop the container "
                        + "before removing or force remove");
            }
            CompletableFuture<ContainerRecord> exited = waitFor(c.id(), "not-running");
            emit(c, "kill", "signal", "9");
            try {
                runc.kill(c.id(), 9, true);
                if (c.status().state() == ContainerState.PAUSED) {
                    runc.resume(c.id()); // frozen processes die only once thawed
                }
            } catch (EngineException e) {
                LOG.debug("kill before remove of {}: {}", c.id(), e.getMessage());
            }
            try {
                exited.get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new EngineException(ErrorKind.INTERNAL, "container " + c.id() + " did not exit for removal", e);
            }
        }
        synchronized (lock(c.id())) {
            ContainerRecord current = store.get(c.id());
            if (current == null) {
                return;
            }
            runc.delete(c.id());
            snapshots.remove(c.id());
            Trash.discard(bundles.resolve(c.id()));
            Files.deleteIfExists(conmon.exits().resolve(c.id()));
            store.delete(c.id());
            restarts.forget(c.id());
            if (removeVolumes) {
                for (ContainerSpec.Mount m : current.spec().host().mountsOrEmpty()) {
                    Volume v = m.type().equals(ContainerSpec.Mount.VOLUME) ? volumes.find(m.source()) : null;
                    if (v != null && v.anonymous() && volumes.usedBy(v.name()).isEmpty()) {
                        volumes.remove(v.name(), true);
                    }
                }
            }
            endPending(c.id());
            emit(current, "destroy");
            notify(c.id(), current, "removed", "not-running", "next-exit");
        }
        locks.remove(c.id());
    }

    /** Completes when the condition holds: not-running (now or later), next-exit, removed. */
    public CompletableFuture<ContainerRecord> waitFor(String ref, String condition) {
        String cond = condition == null || condition.isEmpty() ? "not-running" : condition;
        if (!List.of("not-running", "next-exit", "removed").contains(cond)) {
            throw EngineException.invalid("invalid condition: \"" + condition + "\"");
        }
        ContainerRecord c = store.resolve(ref);
        CompletableFuture<ContainerRecord> future = new CompletableFuture<>();
        synchronized (lock(c.id())) {
            ContainerRecord now = store.get(c.id());
            if (cond.equals("not-running") && (now == null || !now.status().state().active())) {
                future.complete(now != null ? now : c);
                return future;
            }
            waiters.computeIfAbsent(c.id(), k -> new CopyOnWriteArrayList<>()).add(new Waiter(cond, future));
        }
        return future;
    }

    private void notify(String id, ContainerRecord record, String... conditions) {
        List<Waiter> list = waiters.get(id);
        if (list == null) {
            return;
        }
        for (Waiter w : list) {
            if (List.of(conditions).contains(w.condition())) {
                w.future().complete(record);
                list.remove(w);
            }
        }
    }

    /** docker export: the merged root filesystem as a tar (mounted for the time of the export if stopped). */
    public void export(String ref, java.io.OutputStream out) throws IOException {
        ContainerRecord c = store.resolve(ref);
        synchronized (lock(c.id())) {
            c = store.get(c.id());
            boolean active = c.status().state().hasProcess();
            Path rootfs = snapshots.mount(c.id());
            emit(c, "export");
            try {
                RootfsExporter.write(rootfs, out);
            } finally {
                if (!active) {
                    snapshots.unmount(c.id());
                }
            }
        }
    }

    /** What {@code docker cp} reports about a path: name, size, mode, mtime, link target. */
    public record PathStat(String name, long size, int unixMode, Instant mtime, String linkTarget) {
    }

    /** HEAD archive: the path's stat, or NOT_FOUND. */
    public PathStat statPath(String ref, String path) throws IOException {
        return withFiles(ref, files -> toStat(files.stat(path)));
    }

    /** GET archive: the path as a tar; the stat is returned once the tar is written. */
    public PathStat readPath(String ref, String path, java.io.OutputStream out) throws IOException {
        emit(store.resolve(ref), "archive-path");
        return withFiles(ref, files -> toStat(files.read(path, out)));
    }

    /** PUT archive: a tar extracted into the directory at path. */
    public void writePath(String ref, String path, java.io.InputStream tar, boolean noOverwriteDirNonDir, boolean copyUidGid)
            throws IOException {
        withFiles(ref, files -> {
            files.write(path, tar, noOverwriteDirNonDir, copyUidGid);
            return null;
        });
        emit(store.resolve(ref), "extract-to-dir");
    }

    private static PathStat toStat(ContainerFiles.PathStat s) {
        return new PathStat(s.name(), s.size(), s.unixMode(), s.mtime(), s.linkTarget());
    }

    private interface FilesWork<T> {
        T run(ContainerFiles files) throws IOException;
    }

    /** Runs work on the container's filesystem: mounted if stopped, frozen if running (no symlink swaps meanwhile). */
    private <T> T withFiles(String ref, FilesWork<T> work) throws IOException {
        ContainerRecord c = store.resolve(ref);
        synchronized (lock(c.id())) {
            c = store.get(c.id());
            boolean running = c.status().state() == ContainerState.RUNNING;
            boolean active = c.status().state().hasProcess();
            Path rootfs = snapshots.mount(c.id());
            if (running) {
                runc.pause(c.id());
            }
            try {
                ContainerFiles files = new ContainerFiles(rootfs, c.spec().host().mountsOrEmpty(), m -> hostPath(m, rootfs));
                return work.run(files);
            } finally {
                if (running) {
                    runc.resume(c.id());
                }
                if (!active) {
                    snapshots.unmount(c.id());
                }
            }
        }
    }

    /** docker diff: without the mount points the engine adds (the container's /etc files, and those runc makes). */
    public List<SnapshotService.Change> changes(String ref) throws IOException {
        return snapshots.changes(store.resolve(ref).id(), SpecBuilder.ENGINE_MOUNT_POINTS);
    }

    /** Bytes in the container's writable layer (SizeRw). */
    public long writableSize(String id) throws IOException {
        return snapshots.writableSize(id);
    }

    public List<ContainerRecord> list() {
        return store.all();
    }

    public ContainerRecord inspect(String ref) {
        return store.resolve(ref);
    }

    // ------------------------------------------------------------------ recovery

    /**
     * At start: containers that exited while the daemon was down get their real exit code; running ones
     * whose conmon is alive are re-adopted; those whose conmon died are marked exited and cleaned up.
     */
    public void recover() {
        for (ContainerRecord c : store.all()) {
            try {
                if (c.status().state() == ContainerState.RESTARTING || c.status().state() == ContainerState.EXITED) {
                    restarts.atStartup(c);
                    continue;
                }
                if (!c.status().state().hasProcess()) {
                    continue;
                }
                Integer code = conmon.exitCode(c.id());
                boolean alive = c.status().conmonPid() > 0
                        && ProcessHandle.of(c.status().conmonPid()).map(ProcessHandle::isAlive).orElse(false);
                if (code == null && alive) {
                    LOG.info("re-adopted running container {} (conmon {})", c.id().substring(0, 12), c.status().conmonPid());
                    continue;
                }
                synchronized (lock(c.id())) {
                    if (code != null) {
                        LOG.info("container {} exited with {} while the daemon was down", c.id().substring(0, 12), code);
                        finishExit(c, code, Files.exists(bundles.resolve(c.id()).resolve("oom")), "");
                    } else {
                        LOG.warn("container {}: its conmon is gone; marking it exited", c.id().substring(0, 12));
                        finishExit(c, 255, false, "container shim (conmon) died while the daemon was down");
                    }
                    if (restarts.afterExit(store.get(c.id()))) {
                        continue;
                    }
                }
                if (c.spec().host().autoRemove()) {
                    autoRemove(c.id());
                }
            } catch (IOException | RuntimeException e) {
                LOG.error("recovering container {} failed", c.id(), e);
            }
        }
    }

    @Override
    public void close() throws IOException {
        timer.shutdownNow();
        watcher.close();
        background.shutdown();
        try {
            // exits being recorded finish (attachment pumps may outlive this wait: they end with their streams)
            background.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Trash.drain();
    }
}
