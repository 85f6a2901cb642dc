package io.dockgate.engine.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.files.AtomicFiles;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.image.ImageStore;
import io.dockgate.engine.net.NetworkState;
import io.dockgate.engine.net.Networks;
import io.dockgate.engine.net.Sandboxes;
import io.dockgate.engine.oci.SpecBuilder;
import io.dockgate.engine.oci.UserResolver;
import io.dockgate.engine.runtime.Runc;
import io.dockgate.engine.shim.Conmon;
import io.dockgate.engine.shim.ExitWatcher;
import io.dockgate.engine.snapshot.SnapshotService;
import io.dockgate.engine.events.Events;
import io.dockgate.engine.fs.Trash;
import io.dockgate.engine.volume.Volume;
import io.dockgate.engine.volume.VolumeStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
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
 * The container service and its lifecycle: start, exit, stop, kill, restart, pause, rename, update,
 * remove, wait and recovery, with persisted state changed only through the guarded transitions of
 * {@link ContainerRecord.Status}. Creation ({@link ContainerCreation}), attached clients
 * ({@link Attachments}), files ({@link FileOperations}), exec sessions ({@link Execs}) and restart policies
 * ({@link RestartPolicies}) are rooms of their own; the last two see the containers through a narrow
 * interface. Processes run under conmon (one per container) and runc; exits arrive through conmon's exit
 * files, so they are recorded even when they happen while the daemon is down, and {@link #recover}
 * re-adopts running containers at start. Blocking methods: call them from worker threads.
 */
public final class Containers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Containers.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ContainerStore store;
    private final ImageStore images;
    private final VolumeStore volumes;
    private final SnapshotService snapshots;
    private final Runc runc;
    private final Conmon conmon;
    private final Path bundles;
    private final ExitWatcher watcher;
    private final Execs execs;
    private final HealthMonitor health;
    private final Commits commits;
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
    private final ContainerEvents emitter;
    private final Networks networks;
    private final Sandboxes sandboxes;
    private io.dockgate.engine.net.EmbeddedDns dns;
    private final ContainerCreation creation;
    private final Attachments attachments;
    private final FileOperations files;

    private record Waiter(String condition, CompletableFuture<ContainerRecord> future) {
    }

    /** What {@code docker cp} reports about a path: name, size, mode, mtime, link target. */
    public record PathStat(String name, long size, int unixMode, Instant mtime, String linkTarget) {
    }

    public Containers(Path dataRoot, Path execRoot, ImageStore images, VolumeStore volumes, SnapshotService snapshots, Runc runc,
                      Path conmonBinary, Events events, Networks networks, Sandboxes sandboxes) throws IOException {
        this.networks = networks;
        this.sandboxes = sandboxes;
        this.emitter = new ContainerEvents(events);
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
        this.creation = new ContainerCreation(store, images, volumes, snapshots, emitter, networks);
        networks.setInUse(networkId -> store.all().stream().anyMatch(c -> c.status().network() != null
                && c.status().network().endpointsOrEmpty().stream().anyMatch(e -> e.networkId().equals(networkId))));
        this.attachments = new Attachments(store, this::lock, bundles, background, emitter, this::autoRemove);
        this.files = new FileOperations(store, this::lock, snapshots, runc, emitter, creation);
        this.commits = new Commits(store, this::lock, snapshots, images, runc, emitter);
        this.execs = new Execs(new Execs.Host() {
            @Override
            public ContainerRecord inspect(String ref) {
                return store.resolve(ref);
            }

            @Override
            public ContainerRecord find(String id) {
                return store.get(id);
            }

            @Override
            public Path bundle(String id) {
                return bundles.resolve(id);
            }

            @Override
            public void emit(ContainerRecord c, String action, String... extra) {
                emitter.emit(c, action, extra);
            }
        }, execRoot, conmon, background);
        this.health = new HealthMonitor(new HealthMonitor.Host() {
            @Override
            public ContainerRecord find(String id) {
                return store.get(id);
            }

            @Override
            public HealthMonitor.Probe run(String id, List<String> cmd, long timeoutNanos) throws Exception {
                return probe(id, cmd, timeoutNanos);
            }

            @Override
            public void emit(ContainerRecord c, String action) {
                emitter.emit(c, action);
            }
        }, background);
        this.restarts = new RestartPolicies(new RestartPolicies.Starter() {
            @Override
            public Object lock(String id) {
                return Containers.this.lock(id);
            }

            @Override
            public ContainerRecord startProcess(String id) throws IOException {
                return Containers.this.startProcess(id);
            }
        }, store, background, timer);
        LogRotation rotation = new LogRotation(store, () -> bundles::resolve);
        timer.scheduleWithFixedDelay(rotation::check, 250, 250, TimeUnit.MILLISECONDS);
        this.watcher = new ExitWatcher(conmon.exits(), id -> background.execute(() -> handleExit(id)));
        images.setUsage(imageId -> store.all().stream().filter(c -> c.imageId().equals(imageId.toString()))
                .map(c -> new ImageStore.ImageUsage.User(c.id(), c.status().state().active(),
                        c.spec().labels() == null ? "" : c.spec().labels().getOrDefault(ContainerSpec.OWNER_LABEL, ""))).toList());
    }

    /**
     * One health probe: the command as an exec (the container's user, environment and working directory),
     * its exit code and the first bytes of its output; killed at the timeout. The session is not kept.
     */
    private HealthMonitor.Probe probe(String id, List<String> cmd, long timeoutNanos) throws Exception {
        Execs.Session s = execs.create(id, new Execs.ExecSpec(cmd, List.of(), "", "", false, false, false, true, true, 0, 0, null));
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.util.concurrent.CountDownLatch drained = new java.util.concurrent.CountDownLatch(1);
        Attachment attachment = null;
        try {
            attachment = execs.start(s.id(), new Attachment.Sink() {
                @Override
                public void output(int stream, byte[] data, int offset, int length) {
                    synchronized (out) {
                        out.write(data, offset, Math.max(0, Math.min(length, HealthMonitor.MAX_OUTPUT - out.size())));
                    }
                }

                @Override
                public void end() {
                    drained.countDown();
                }
            });
            Integer code;
            try {
                code = s.exited().get(timeoutNanos, TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                if (s.pid() > 0) {
                    io.dockgate.engine.sys.Syscalls.kill(s.pid(), 9);
                }
                throw e;
            }
            drained.await(1, TimeUnit.SECONDS);
            synchronized (out) {
                return new HealthMonitor.Probe(code, out.toString(java.nio.charset.StandardCharsets.UTF_8));
            }
        } finally {
            if (attachment != null) {
                attachment.close();
            }
            execs.forget(s.id());
        }
    }

    /** docker commit: the container's writable layer as a new image (see {@link Commits}). */
    public io.dockgate.engine.image.Image commit(String ref, Commits.CommitRequest request) throws IOException {
        return commits.commit(ref, request);
    }

    /** State.Health of a container with a health check (null without one, or before its first start). */
    public HealthMonitor.View health(String id) {
        return health.view(id);
    }

    /** docker exec sessions. */
    public Execs execs() {
        return execs;
    }

    public ContainerStore store() {
        return store;
    }

    Object lock(String id) {
        return locks.computeIfAbsent(id, k -> new Object());
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
            c.status().running(0, 0, ""); // refused here, before anything is mounted, when start is not allowed
            Path rootfs = snapshots.mount(c.id());
            Path bundle = bundles.resolve(c.id());
            NetworkState net = null;
            try {
                Files.createDirectories(bundle);
                Path etc = store.directory(c.id()).resolve("etc");
                if (!Files.exists(etc.resolve("hostname")) || Files.size(etc.resolve("hostname")) == 0) {
                    ContainerCreation.writeEtc(etc, c.spec().hostname(), "host".equals(c.spec().host().networkMode()),
                            c.spec().netOrNone().resolutionOrNone(), creation.hostGateway()); // lost in a crash
                }
                Map<String, String> joined = new java.util.LinkedHashMap<>(creation.joinedNamespaces(c.spec().host()));
                ContainerRecord processOf = c; // the record the process is made from (with the links' variables)
                String mode = c.spec().host().networkMode();
                if (mode != null && mode.startsWith("container:")) {
                    // --network container:X: X's namespace and X's /etc files (hosts, resolv.conf, hostname), as dockerd
                    ContainerRecord target = sharedNetwork(c, mode.substring("container:".length()));
                    joined.put("network", "/proc/" + target.status().pid() + "/ns/net");
                    etc = store.directory(target.id()).resolve("etc");
                    processOf = c.withSpec(c.spec().withHostname(target.spec().hostname()));
                } else if (ContainerCreation.onBridge(c.spec().host())) {
                    io.dockgate.engine.net.NetworkRecord bridge = networks.find("bridge");
                    LegacyLinks.Resolved links = bridge != null && bridge.isDefault() && networks.get(mode).id().equals(bridge.id())
                            ? LegacyLinks.resolve(c, store, bridge.id()) : LegacyLinks.Resolved.NONE; // on user networks: DNS
                    if (!links.env().isEmpty()) {
                        List<String> env = new ArrayList<>(c.spec().env());
                        env.addAll(links.env());
                        processOf = c.withSpec(c.spec().withEnv(env));
                    }
                    net = sandboxes.attach(c.id(), creation.endpoints(c.spec()), creation.publishedPorts(c.spec()));
                    joined.put("network", net.sandbox());
                    ContainerSpec.Resolution resolution = c.spec().netOrNone().resolutionOrNone();
                    String gateway = creation.hostGateway();
                    ContainerCreation.writeHosts(etc, c.spec().hostname(), net, resolution,
                            gateway != null ? gateway : net.endpointsOrEmpty().isEmpty() ? null : net.endpointsOrEmpty().get(0).gateway(),
                            links.hostsLines());
                    boolean embedded = onUserNetwork(net);
                    ContainerCreation.writeResolv(etc, embedded, networks.options(), resolution);
                    if (embedded) {
                        dns().serve(c.id(), Path.of(net.sandbox()), resolution.dns());
                    }
                }
                UserResolver.User user = UserResolver.withGroups(rootfs, UserResolver.resolve(rootfs, c.spec().user()),
                        c.spec().host().groupAddOrEmpty());
                ObjectNode config = SpecBuilder.build(processOf, rootfs, etc, user, m -> creation.hostPath(m, rootfs), joined);
                AtomicFiles.writeUnsynced(bundle.resolve("config.json"), JSON.writeValueAsBytes(config), AtomicFiles.PRIVATE);
                runc.delete(c.id());
                Path log = c.spec().host().logOrDefault().keepsNothing() ? Path.of("/dev/null") : Path.of(c.logPath());
                Conmon.Created created = conmon.create(c.id(), c.name().substring(1), bundle, log,
                        LogRotation.conmonLimit(c.spec().host().logOrDefault()),
                        new Conmon.Stdio(c.spec().tty(), c.spec().openStdin(), c.spec().stdinOnce()));
                ContainerRecord running = c.withStatus(c.status().running(created.pid(), created.conmonPid(), Instant.now().toString(),
                        net));
                store.save(running);
                attachments.connectPending(c.id());
                runc.start(c.id());
                emitter.volumes(running, "mount");
                emitNetworks(running, net, "connect");
                emitter.emit(running, "start");
                health.started(running);
                return running;
            } catch (Conmon.RuntimeFailure e) {
                stopDns(c.id());
                sandboxes.detach(c.id(), net);
                failStart(c, bundle, e.getMessage());
                throw new EngineException(ErrorKind.RUNTIME, "OCI runtime create failed: " + e.getMessage() + ": unknown", e);
            } catch (IOException | RuntimeException e) {
                stopDns(c.id());
                sandboxes.detach(c.id(), net);
                failStart(c, bundle, e.getMessage());
                throw e;
            }
        }
    }

    /** The running container whose network namespace a starting one joins (dockerd's errors otherwise). */
    private ContainerRecord sharedNetwork(ContainerRecord c, String ref) {
        ContainerRecord target;
        try {
            target = store.resolve(ref);
        } catch (EngineException e) {
            if (e.kind() == ErrorKind.NOT_FOUND) {
                throw new EngineException(ErrorKind.RUNTIME, "joining network namespace of container: " + e.getMessage(), e);
            }
            throw e;
        }
        if (target.id().equals(c.id())) {
            throw new EngineException(ErrorKind.RUNTIME, "cannot join own network namespace");
        }
        if (!target.status().state().hasProcess() || target.status().pid() <= 0) {
            throw EngineException.conflict("cannot join network namespace of a non running container: container "
                    + target.name().substring(1) + " is " + target.status().state().wire());
        }
        return target;
    }

    private void failStart(ContainerRecord c, Path bundle, String error) {
        try {
            runc.delete(c.id());
            snapshots.unmount(c.id());
            io.dockgate.files.FileTrees.delete(bundle);
            store.save(c.withStatus(c.status().startFailed(error)));
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
            if (attachments.removeWhenDetached(id)) {
                return; // the attached client reads the last output first; its detach removes the container
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

    // ------------------------------------------------------------------ network connect, disconnect

    /**
     * docker network connect: a running container gets the endpoint at once; a created or stopped one
     * when it next starts. Either way the container keeps the network across restarts.
     */
    public void connect(String ref, String networkRef, io.dockgate.engine.net.EndpointRequest settings) throws IOException {
        io.dockgate.engine.net.NetworkRecord n = networks.get(networkRef);
        ContainerRecord c = store.resolve(ref);
        synchronized (lock(c.id())) {
            c = store.get(c.id());
            String mode = c.spec().host().networkMode();
            if (!ContainerCreation.onBridge(c.spec().host())) {
                throw EngineException.conflict("container sharing network namespace with another container or host cannot be connected"
                        + " to any other network (network mode " + mode + ")");
            }
            if (n.isDefault() && (settings.ipv4() != null && !settings.ipv4().isEmpty() || !settings.aliasesOrEmpty().isEmpty())) {
                throw EngineException.invalid("user specified IP address and aliases are supported only for user defined networks");
            }
            List<io.dockgate.engine.net.EndpointRequest> configured = creation.endpoints(c.spec());
            for (io.dockgate.engine.net.EndpointRequest e : configured) {
                if (networks.get(e.network()).id().equals(n.id())) {
                    throw new EngineException(ErrorKind.PERMISSION_DENIED, "endpoint with name " + c.name().substring(1)
                            + " already exists in network " + n.name());
                }
            }
            io.dockgate.engine.net.EndpointRequest wanted = new io.dockgate.engine.net.EndpointRequest(n.name(), settings.aliasesOrEmpty(),
                    settings.ipv4(), settings.mac());
            ContainerRecord.Status status = c.status();
            if (status.state().hasProcess() && status.network() != null) {
                NetworkState after = sandboxes.connect(c.id(), status.network(), wanted);
                status = status.withNetwork(after);
                if (!n.isDefault()) {
                    try {
                        dns().serve(c.id(), Path.of(after.sandbox()), c.spec().netOrNone().resolutionOrNone().dns());
                    } catch (IOException | RuntimeException e) {
                        sandboxes.disconnect(c.id(), after, n.id());
                        throw e;
                    }
                }
            }
            ContainerSpec.Net net = c.spec().netOrNone();
            boolean isMode = networks.get(mode).id().equals(n.id());
            List<io.dockgate.engine.net.EndpointRequest> endpoints = new ArrayList<>();
            for (io.dockgate.engine.net.EndpointRequest e : net.endpointsOrEmpty()) {
                io.dockgate.engine.net.NetworkRecord en = e.network().equals("default") ? networks.get(mode) : networks.find(e.network());
                if (en == null || !en.id().equals(n.id())) {
                    endpoints.add(e); // settings of this network given before are replaced by the new ones
                }
            }
            endpoints.add(wanted);
            ContainerRecord saved = c.withStatus(status).withSpec(c.spec().withHost(c.spec().host().toBuilder()
                    .net(net.withEndpoints(endpoints, isMode ? false : net.modeDisconnected())).build()));
            store.save(saved);
            networks.emitEndpoint(n, "connect", c.id());
        }
    }

    /** docker network disconnect: the endpoint goes at once from a running container, and from its configuration. */
    public void disconnect(String ref, String networkRef) throws IOException {
        io.dockgate.engine.net.NetworkRecord n = networks.get(networkRef);
        ContainerRecord c = store.resolve(ref);
        synchronized (lock(c.id())) {
            c = store.get(c.id());
            if (!ContainerCreation.onBridge(c.spec().host())) {
                throw EngineException.conflict("container " + c.name().substring(1) + " is not connected to network " + n.name());
            }
            List<io.dockgate.engine.net.EndpointRequest> configured = creation.endpoints(c.spec());
            List<io.dockgate.engine.net.EndpointRequest> remaining = new ArrayList<>();
            boolean found = false;
            for (io.dockgate.engine.net.EndpointRequest e : configured) {
                if (networks.get(e.network()).id().equals(n.id())) {
                    found = true;
                } else {
                    remaining.add(e);
                }
            }
            if (!found) {
                throw EngineException.conflict("container " + c.id() + " is not connected to network " + n.name());
            }
            ContainerRecord.Status status = c.status();
            if (status.state().hasProcess() && status.network() != null) {
                status = status.withNetwork(sandboxes.disconnect(c.id(), status.network(), n.id()));
            }
            // the network mode stays what it was (as dockerd's HostConfig.NetworkMode); disconnected from it, the
            // container starts without that endpoint until it is connected again
            ContainerSpec.Net net = c.spec().netOrNone();
            boolean isMode = networks.get(c.spec().host().networkMode()).id().equals(n.id());
            List<io.dockgate.engine.net.EndpointRequest> kept = new ArrayList<>();
            for (io.dockgate.engine.net.EndpointRequest e : net.endpointsOrEmpty()) {
                io.dockgate.engine.net.NetworkRecord en = e.network().equals("default") ? null : networks.find(e.network());
                if (!(en != null && en.id().equals(n.id()) || e.network().equals("default") && isMode)) {
                    kept.add(e);
                }
            }
            ContainerRecord saved = c.withStatus(status).withSpec(c.spec().withHost(c.spec().host().toBuilder()
                    .net(net.withEndpoints(kept, isMode || net.modeDisconnected())).build()));
            store.save(saved);
            networks.emitEndpoint(n, "disconnect", c.id());
        }
    }

    /** Whether any of the container's endpoints is on a user-defined network (those have the embedded DNS). */
    private boolean onUserNetwork(NetworkState net) {
        return net.endpointsOrEmpty().stream().anyMatch(e -> {
            io.dockgate.engine.net.NetworkRecord n = networks.find(e.networkId());
            return n != null && !n.isDefault();
        });
    }

    private synchronized io.dockgate.engine.net.EmbeddedDns dns() throws IOException {
        if (dns == null) {
            dns = new io.dockgate.engine.net.EmbeddedDns(this::resolve, networks.options().resolvers());
        }
        return dns;
    }

    private synchronized void stopDns(String id) {
        if (dns != null) {
            dns.stop(id);
        }
    }

    /**
     * The names the embedded DNS answers, built from the records when they change: per user-defined
     * network, each running member's name, short ID, hostname and aliases (and each with {@code .network}
     * after it), lower case, to its addresses there; and the networks each container is on.
     */
    private record NameIndex(long version, Map<String, Map<String, List<java.net.Inet4Address>>> byNetwork,
                             Map<String, java.util.Set<String>> networksOf,
                             Map<String, Map<String, java.net.Inet4Address>> addressesOf,
                             Map<String, Map<String, String>> linksOf) {
    }

    private volatile NameIndex names;

    private NameIndex names() {
        long version = store.version();
        NameIndex index = names;
        if (index != null && index.version() == version) {
            return index;
        }
        Map<String, Map<String, List<java.net.Inet4Address>>> byNetwork = new java.util.HashMap<>();
        Map<String, java.util.Set<String>> networksOf = new java.util.HashMap<>();
        Map<String, Map<String, java.net.Inet4Address>> addressesOf = new java.util.HashMap<>();
        Map<String, Map<String, String>> linksOf = new java.util.HashMap<>();
        for (ContainerRecord c : store.all()) {
            NetworkState net = c.status().network();
            if (net == null || !c.status().state().hasProcess()) {
                continue;
            }
            for (ContainerSpec.Link l : c.spec().netOrNone().linksOrEmpty()) {
                // a link on a user-defined network: a name only the linking container resolves (as dockerd)
                linksOf.computeIfAbsent(c.id(), k -> new java.util.HashMap<>()).put(l.alias().toLowerCase(java.util.Locale.ROOT), l.container());
            }
            for (io.dockgate.engine.net.Endpoint e : net.endpointsOrEmpty()) {
                io.dockgate.engine.net.NetworkRecord n = networks.find(e.networkId());
                if (n == null || n.isDefault()) {
                    continue;
                }
                networksOf.computeIfAbsent(c.id(), k -> new java.util.HashSet<>()).add(n.id());
                java.net.Inet4Address a = io.dockgate.engine.net.Subnet.inet(io.dockgate.engine.net.Subnet.address(e.ip()));
                addressesOf.computeIfAbsent(c.id(), k -> new java.util.HashMap<>()).put(n.id(), a);
                Map<String, List<java.net.Inet4Address>> table = byNetwork.computeIfAbsent(n.id(), k -> new java.util.HashMap<>());
                List<String> given = new ArrayList<>(List.of(c.name().substring(1), c.id().substring(0, 12), c.spec().hostname()));
                given.addAll(e.aliases());
                for (String g : given) {
                    for (String key : List.of(g.toLowerCase(java.util.Locale.ROOT),
                            (g + "." + n.name()).toLowerCase(java.util.Locale.ROOT))) {
                        List<java.net.Inet4Address> list = table.computeIfAbsent(key, k -> new ArrayList<>());
                        if (!list.contains(a)) {
                            list.add(a);
                        }
                    }
                }
            }
        }
        index = new NameIndex(version, byNetwork, networksOf, addressesOf, linksOf);
        names = index;
        return index;
    }

    /** The embedded DNS's answer for a container: the addresses the name has on the asker's user-defined networks. */
    private List<java.net.Inet4Address> resolve(String askingId, String name) {
        NameIndex index = names();
        java.util.Set<String> mine = index.networksOf().get(askingId);
        if (mine == null) {
            return List.of();
        }
        String wanted = (name.endsWith(".") ? name.substring(0, name.length() - 1) : name).toLowerCase(java.util.Locale.ROOT);
        List<java.net.Inet4Address> out = new ArrayList<>(2);
        String linked = index.linksOf().getOrDefault(askingId, Map.of()).get(wanted);
        if (linked != null) {
            Map<String, java.net.Inet4Address> theirs = index.addressesOf().getOrDefault(linked, Map.of());
            for (String network : mine) {
                java.net.Inet4Address a = theirs.get(network);
                if (a != null && !out.contains(a)) {
                    out.add(a);
                }
            }
            if (!out.isEmpty()) {
                return out;
            }
        }
        for (String network : mine) {
            List<java.net.Inet4Address> found = index.byNetwork().getOrDefault(network, Map.of()).get(wanted);
            if (found != null) {
                for (java.net.Inet4Address a : found) {
                    if (!out.contains(a)) {
                        out.add(a);
                    }
                }
            }
        }
        return out;
    }

    /** Network events for each network a container joined or left (at its start and exit, as dockerd sends them). */
    private void emitNetworks(ContainerRecord c, NetworkState net, String action) {
        if (net == null) {
            return;
        }
        for (io.dockgate.engine.net.Endpoint e : net.endpointsOrEmpty()) {
            io.dockgate.engine.net.NetworkRecord n = networks.find(e.networkId());
            if (n != null) {
                networks.emitEndpoint(n, action, c.id());
            }
        }
    }

    private void finishExit(ContainerRecord c, int code, boolean oom, String error) throws IOException {
        health.stopped(c.id());
        runc.delete(c.id());
        // the network goes before anything else can start the container again (a restart policy)
        stopDns(c.id());
        sandboxes.detach(c.id(), c.status().network());
        emitNetworks(c, c.status().network(), "disconnect");
        snapshots.unmount(c.id());
        Trash.discard(bundles.resolve(c.id()));
        ContainerRecord exited = c.withStatus(c.status().exited(code, Instant.now().toString(), oom, error));
        store.save(exited);
        execs.containerExited(c.id());
        if (oom) {
            emitter.emit(exited, "oom");
        }
        emitter.emit(exited, "die", "exitCode", Integer.toString(code));
        emitter.volumes(exited, "unmount");
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
        emitter.emit(c, "stop");
        return true;
    }

    /** docker restart: stop (if running), then start; emits restart. */
    public ContainerRecord restart(String ref, Integer timeoutSeconds, String signal) throws IOException {
        stop(ref, timeoutSeconds, signal);
        ContainerRecord c = start(ref);
        emitter.emit(c, "restart");
        return c;
    }

    /** A restarting container whose restart was cancelled is exited again (with its last exit code). */
    private boolean settleRestarting(String id) throws IOException {
        synchronized (lock(id)) {
            ContainerRecord c = store.get(id);
            if (c == null || c.status().state() != ContainerState.RESTARTING) {
                return false;
            }
            ContainerRecord exited = c.withStatus(c.status().restartCancelled());
            store.save(exited);
            notify(id, exited, "not-running");
            return true;
        }
    }

    private void markStoppedByUser(String id) throws IOException {
        synchronized (lock(id)) {
            ContainerRecord c = store.get(id);
            store.save(c.withStatus(c.status().markStoppedByUser()));
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
        emitter.emit(c, "kill", "signal", Integer.toString(sig));
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
            ContainerRecord.Status paused = c.status().paused();
            runc.pause(c.id());
            store.save(c.withStatus(paused));
            emitter.emit(c, "pause");
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
            ContainerRecord.Status running = c.status().unpaused();
            runc.resume(c.id());
            store.save(c.withStatus(running));
            emitter.emit(c, "unpause");
        }
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
                emitter.emit(c.withName(reserved), "rename", "oldName", c.name());
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
            ContainerCreation.validate(updated);
            if (c.status().state().hasProcess()) {
                runc.update(c.id(), updated.memory(), updated.memory() > 0 ? SpecBuilder.swapLimit(updated) : 0, updated.cpuShares(),
                        updated.cpuQuota(), updated.cpuPeriod(), updated.pidsLimit(), updated.cpusetCpus());
            }
            ContainerRecord saved = new ContainerRecord(c.id(), c.name(), c.created(), c.imageId(), c.imageRef(),
                    c.spec().withHost(updated),
                    c.path(), c.args(), c.status(), c.restartCount(), c.logPath());
            store.save(saved);
            emitter.emit(saved, "update");
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
            emitter.emit(c, "kill", "signal", "9");
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
            health.forget(c.id());
            if (removeVolumes) {
                for (ContainerSpec.Mount m : current.spec().host().mountsOrEmpty()) {
                    Volume v = m.type().equals(ContainerSpec.Mount.VOLUME) ? volumes.find(m.source()) : null;
                    if (v != null && v.anonymous() && volumes.usedBy(v.name()).isEmpty()) {
                        volumes.remove(v.name(), true);
                    }
                }
            }
            attachments.endPending(c.id());
            emitter.emit(current, "destroy");
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

    // ------------------------------------------------------------------ the other rooms

    /** docker create (see {@link ContainerCreation}). */
    public ContainerRecord create(String name, ContainerSpec spec) throws IOException {
        return create(name, spec, io.dockgate.engine.image.ImageNamespace.COMMON);
    }

    /** docker create with the image named in the caller's namespace of image names. */
    public ContainerRecord create(String name, ContainerSpec spec, io.dockgate.engine.image.ImageNamespace images) throws IOException {
        return creation.create(name, spec, images);
    }

    /**
     * Attaches a client to the container's streams through conmon's attach socket (see {@link Attachments}).
     * Cancel the future to give up waiting for a start.
     */
    public CompletableFuture<Attachment> attach(String ref, Attachment.Streams streams, Attachment.Sink sink) {
        return attachments.attach(ref, streams, sink);
    }

    /** Sets the terminal size of a TTY container (conmon's control FIFO). */
    public void resize(String ref, int height, int width) throws IOException {
        attachments.resize(ref, height, width);
    }

    /** docker export: the merged root filesystem as a tar. */
    public void export(String ref, java.io.OutputStream out) throws IOException {
        files.export(ref, out);
    }

    /** HEAD archive: the path's stat, or NOT_FOUND. */
    public PathStat statPath(String ref, String path) throws IOException {
        return files.statPath(ref, path);
    }

    /** GET archive: the path as a tar; the stat is returned once the tar is written. */
    public PathStat readPath(String ref, String path, java.io.OutputStream out) throws IOException {
        return files.readPath(ref, path, out);
    }

    /** PUT archive: a tar extracted into the directory at path. */
    public void writePath(String ref, String path, java.io.InputStream tar, boolean noOverwriteDirNonDir, boolean copyUidGid)
            throws IOException {
        files.writePath(ref, path, tar, noOverwriteDirNonDir, copyUidGid);
    }

    /** docker diff. */
    public List<SnapshotService.Change> changes(String ref) throws IOException {
        return files.changes(ref);
    }

    /** Bytes in the container's writable layer (SizeRw). */
    public long writableSize(String id) throws IOException {
        return files.writableSize(id);
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
        recoverContainers();
        try {
            java.util.Set<String> running = new java.util.HashSet<>();
            for (ContainerRecord c : store.all()) {
                if (c.status().state().hasProcess() && c.status().network() != null) {
                    running.add(c.id());
                }
            }
            sandboxes.sweep(running);
        } catch (IOException | RuntimeException e) {
            LOG.error("sweeping network namespaces and rules failed", e);
        }
    }

    private void recoverContainers() {
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
                    health.started(c); // probes resume ("starting" again: the state was the old daemon's)
                    if (c.status().network() != null) {
                        sandboxes.restore(c.id(), c.status().network());
                        if (onUserNetwork(c.status().network())) {
                            dns().serve(c.id(), Path.of(c.status().network().sandbox()),
                                    c.spec().netOrNone().resolutionOrNone().dns()); // names answered again
                        }
                    }
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
        health.close();
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
        sandboxes.close();
        synchronized (this) {
            if (dns != null) {
                dns.close();
            }
        }
    }
}
