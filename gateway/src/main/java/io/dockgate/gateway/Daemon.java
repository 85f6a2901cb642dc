package io.dockgate.gateway;

import io.dockgate.config.ConfigException;
import io.dockgate.config.DaemonConfig;
import io.dockgate.config.ListenAddress;
import io.dockgate.engine.Engine;
import io.dockgate.engine.EngineVersion;
import io.dockgate.gateway.upstream.Forwarder;
import io.dockgate.gateway.upstream.Tenancy;
import io.dockgate.gateway.upstream.Upstream;
import io.dockgate.gateway.upstream.UpstreamFacts;
import io.dockgate.gateway.api.ContainersApi;
import io.dockgate.gateway.api.DiskUsageApi;
import io.dockgate.gateway.api.BuildApi;
import io.dockgate.gateway.api.RegistryApi;
import io.dockgate.gateway.api.CommitApi;
import io.dockgate.gateway.api.ExecApi;
import io.dockgate.gateway.api.VolumesApi;
import io.dockgate.gateway.api.StatsApi;
import io.dockgate.gateway.api.SwarmApi;
import io.dockgate.gateway.api.ArchiveApi;
import io.dockgate.gateway.api.EventsApi;
import io.dockgate.gateway.api.NetworksApi;
import io.dockgate.gateway.api.ImagesApi;
import io.dockgate.gateway.api.SystemApi;
import io.dockgate.config.policy.PolicyLoader;
import io.dockgate.gateway.audit.AuditLog;
import io.dockgate.gateway.audit.AuditRecord;
import io.dockgate.gateway.authz.Authorizer;
import io.dockgate.gateway.authz.EngineFacts;
import io.dockgate.gateway.authz.Limiter;
import io.dockgate.gateway.http.Blocking;
import io.dockgate.gateway.auth.UnixAccounts;
import io.dockgate.gateway.http.DockerHeaders;
import io.dockgate.gateway.http.GatewayStats;
import io.dockgate.gateway.http.OperationCatalog;
import io.dockgate.gateway.http.RequestPipeline;
import io.dockgate.gateway.listen.ConnectionRegistry;
import io.dockgate.gateway.listen.HandshakeListener;
import io.dockgate.gateway.listen.HandshakeRejection;
import io.dockgate.gateway.listen.Listener;
import io.dockgate.gateway.listen.ReloadableTls;
import io.dockgate.gateway.listen.TcpListener;
import io.dockgate.gateway.listen.TlsMaterial;
import io.dockgate.gateway.listen.UnixListener;
import io.dockgate.certs.CertificateInfo;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon: owns Vert.x, the engine, the TLS material and the listeners, and moves through explicit
 * states. {@code NEW → STARTING → RUNNING → STOPPING → STOPPED}; a failed start goes to {@code FAILED}
 * after undoing what it did.
 */
public final class Daemon {
    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);
    private static final long WATCH_PERIOD_MS = 250;

    /** Lifecycle states. */
    public enum State { NEW, STARTING, RUNNING, STOPPING, STOPPED, FAILED }

    private final DaemonConfig config;
    private final Clock clock;
    private final GatewayStats stats = new GatewayStats();
    private final ConnectionRegistry connections = new ConnectionRegistry();
    private final List<HandshakeListener> handshakeListeners = new CopyOnWriteArrayList<>();
    private final List<Listener> listeners = new ArrayList<>();
    private volatile State state = State.NEW;
    private Vertx vertx;
    private Engine engine;
    private Upstream upstream;
    /** Upstream mode's records (image names' and anonymous volumes' owners), written through at stop. */
    private io.dockgate.gateway.upstream.UpstreamState upstreamRecords;
    private ReloadableTls tls;
    private Pidfile pidfile;
    private FileWatcher watcher;
    private FileWatcher policyWatcher;
    private Authorizer authorizer;
    private AuditLog audit;
    private RequestPipeline pipeline;
    private io.dockgate.gateway.listen.HandshakeGate handshakeGate = io.dockgate.gateway.listen.HandshakeGate.unbounded();

    public Daemon(DaemonConfig config) {
        this(config, Clock.systemUTC());
    }

    public Daemon(DaemonConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
        handshakeListeners.add(this::logRejection);
    }

    public State state() {
        return state;
    }

    public GatewayStats stats() {
        return stats;
    }

    public ConnectionRegistry connections() {
        return connections;
    }

    /** Adds an observer of refused handshakes (the audit log subscribes here). */
    public void onHandshakeRejected(HandshakeListener listener) {
        handshakeListeners.add(listener);
    }

    /** The addresses actually bound (with the real port when 0 was asked). */
    public List<String> addresses() {
        return listeners.stream().map(Listener::address).toList();
    }

    /** Starts everything; on failure undoes what was started and fails with the reason. */
    public synchronized Future<Void> start() {
        if (state != State.NEW) {
            return Future.failedFuture(new IllegalStateException("cannot start a daemon in state " + state));
        }
        state = State.STARTING;
        try {
            pidfile = Pidfile.acquire(config.pidfile());
            DaemonConfig.AuthzConfig az = config.authz();
            authorizer = new Authorizer(az.policy().map(PolicyLoader::load), az.dryRun());
            audit = AuditLog.open(az.auditLog());
            if (config.upstream().isEmpty()) {
                engine = Engine.open(config.dataRoot(), config.execRoot(), Engine.Limits.DEFAULT.withBuildContext(config.maxBuildContext()),
                        new io.dockgate.engine.net.Networks.Options(config.network().bridge(), config.network().bip().orElse(null),
                                config.network().iptables(), config.network().dns()));
                DaemonConfig.RegistryConfig registry = config.registry();
                engine.images().setRegistries(new io.dockgate.engine.image.Registries(registry.mirrors(), registry.insecure(),
                        new io.dockgate.gateway.registry.CertsDir(registry.certsDir()), registry.maxAttempts()));
            }
            if (config.tls().isPresent()) {
                io.dockgate.gateway.listen.NativeCrypto.install();
                tls = new ReloadableTls(config.tls().get(), clock, this::handshakeRejected, "tls");
                logMaterial("loaded", tls.material());
            }
        } catch (RuntimeException | java.io.IOException e) {
            cleanup();
            state = State.FAILED;
            return Future.failedFuture(e instanceof java.io.IOException io
                    ? new ConfigException("cannot open the audit log " + config.authz().auditLog() + ": " + io.getMessage(), io) : e);
        }
        vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
        OperationCatalog catalog;
        io.dockgate.gateway.authz.Facts facts;
        if (config.upstream().isPresent()) {
            upstream = new Upstream(vertx, config.upstream().get());
            io.dockgate.gateway.upstream.UpstreamState records = upstreamRecords = io.dockgate.gateway.upstream.UpstreamState.open(
                    config.dataRoot().resolve("upstream"));
            catalog = upstreamCatalog(new Forwarder(upstream, Tenancy.over(upstream, records), config.dataRoot().resolve("upstream-builds"),
                    config.maxBuildContext()));
            facts = new UpstreamFacts(upstream, records);
        } else {
            catalog = catalog(engine, new Blocking(vertx), this::warnings);
            facts = new EngineFacts(engine);
        }
        RequestPipeline pipeline = this.pipeline = new RequestPipeline(connections, catalog,
                new DockerHeaders(EngineVersion.current().version()), stats, authorizer, new Limiter(), facts,
                audit, config.authz().maxRequestBody());
        if (upstream != null) {
            pipeline.reserveLabel(Tenancy.OWNER_LABEL);
        }
        handshakeListeners.add(this::auditRejection);
        connections.limits(config.connections());
        handshakeGate = new io.dockgate.gateway.listen.HandshakeGate(config.connections().maxHandshakes(),
                config.connections().maxHandshakesPerIp());
        connections.framing(info -> new io.dockgate.gateway.http.FramingGuard(pipeline::mayHijack,
                (line, reason) -> pipeline.framingRefused(info, line, reason)));
        UnixAccounts accounts = new UnixAccounts();

        Future<Void> all = Future.succeededFuture();
        for (ListenAddress address : config.hosts()) {
            all = all.compose(v -> startListener(address, accounts, pipeline)).mapEmpty();
        }
        return all.compose(v -> {
            watchTlsFiles();
            watchPolicy();
            state = State.RUNNING;
            if (config.tls().isEmpty() && config.hosts().stream().anyMatch(h -> h instanceof ListenAddress.Tcp)) {
                LOG.warn("plain TCP listener on loopback: callers on it have no identity");
            }
            if (authorizer.policy().isEmpty()) {
                LOG.warn("no authorization policy (--authz-policy): every authenticated caller may do everything, as with dockerd");
            } else {
                LOG.info("authorization policy {} in force: {} binding(s){}", config.authz().policy().get(),
                        authorizer.policy().get().bindings().size(), authorizer.dryRun() ? ", DRY RUN (denials not enforced)" : "");
            }
            LOG.info("audit log {}", audit.file());
            LOG.info("dockgate {} running, listening on {}{}", EngineVersion.current().version(), addresses(),
                    upstream != null ? ", guarding the upstream engine " + upstream.describe() : "");
            return Future.<Void>succeededFuture();
        }).recover(e -> stop().eventually(() -> {
            state = State.FAILED;
            return Future.succeededFuture();
        }).compose(v -> Future.failedFuture(e)));
    }

    /**
     * Every route with its handler. Handlers only use the engine when called, so {@code policy explain}
     * builds the same catalog without one.
     */
    public static OperationCatalog catalog(Engine engine, Blocking blocking, java.util.function.Supplier<List<String>> warnings) {
        OperationCatalog catalog = new OperationCatalog();
        new SystemApi(engine, warnings).register(catalog);
        ImagesApi images = new ImagesApi(engine, blocking);
        images.register(catalog);
        ContainersApi containers = new ContainersApi(engine, blocking);
        containers.register(catalog);
        new ExecApi(engine, blocking).register(catalog);
        new CommitApi(engine, blocking).register(catalog);
        new BuildApi(engine, blocking).register(catalog);
        VolumesApi volumes = new VolumesApi(engine, blocking);
        volumes.register(catalog);
        new DiskUsageApi(images, containers, volumes, blocking).register(catalog);
        new StatsApi(engine, blocking).register(catalog);
        new ArchiveApi(engine, blocking).register(catalog);
        new EventsApi(engine).register(catalog);
        new NetworksApi(engine, blocking).register(catalog);
        new SwarmApi().register(catalog);
        new RegistryApi(engine, blocking).register(catalog);
        return catalog;
    }

    /**
     * Upstream mode's routes: every route of the embedded API, with the same descriptors (policy names,
     * targets, bodies, judges), each forwarded to the upstream instead of handled here.
     */
    static OperationCatalog upstreamCatalog(Forwarder forwarder) {
        OperationCatalog embedded = catalog(null, null, List::of);
        OperationCatalog catalog = new OperationCatalog();
        for (OperationCatalog.Entry e : embedded.entries()) {
            catalog.add(e.operation(), e.route().methods(), e.route().pattern(), forwarder);
        }
        return catalog;
    }

    private Future<Listener> startListener(ListenAddress address, UnixAccounts accounts, RequestPipeline pipeline) {
        Future<Listener> started;
        if (address instanceof ListenAddress.Unix unix) {
            started = UnixListener.start(vertx, unix, config.group(), accounts, connections, pipeline);
        } else if (address instanceof ListenAddress.Tcp tcp) {
            started = TcpListener.start(vertx, tcp, tls, handshakeGate, connections, this::handshakeRejected, pipeline);
        } else {
            return Future.failedFuture(new ConfigException("unsupported address " + address));
        }
        return started.onSuccess(listeners::add);
    }

    private void watchTlsFiles() {
        if (tls == null) {
            return;
        }
        DaemonConfig.TlsConfig t = tls.config();
        List<Path> files = new ArrayList<>(List.of(t.caCert(), t.cert(), t.key()));
        t.crl().ifPresent(files::add);
        watcher = new FileWatcher(vertx, files, WATCH_PERIOD_MS, () -> {
            LOG.info("TLS files changed on disk; reloading");
            reload();
        });
        watcher.start();
    }

    /**
     * Reloads the TLS material and the policy, and reopens the audit log's path (SIGHUP or a file change).
     * New handshakes use the new files; open connections go on, except those whose certificate the new CRL
     * revokes, which are closed. A broken file is reported and the old material stays in force.
     */
    public Future<Void> reload() {
        if (state != State.RUNNING) {
            return Future.succeededFuture();
        }
        Future<Void> auditReopened = reopenAudit();
        Future<Void> policy = reloadPolicy();
        if (tls == null) {
            return Future.join(auditReopened, policy).mapEmpty();
        }
        Future<Void> tlsReloaded = vertx.executeBlocking(tls::reload, false)
                .onSuccess(material -> {
                    logMaterial("reloaded", material);
                    int closed = connections.closeRevoked(material.validator().revocations());
                    if (closed > 0) {
                        LOG.warn("closed {} connection(s) of revoked certificates", closed);
                    }
                })
                .onFailure(e -> LOG.error("TLS reload failed, keeping the previous material: {}", e.getMessage()))
                .mapEmpty();
        return Future.join(auditReopened, tlsReloaded).mapEmpty();
    }

    /** Reopens the audit log's path (after a rotation moved the file); a failure keeps the open file. */
    private Future<Void> reopenAudit() {
        return vertx.<Void>executeBlocking(() -> {
            audit.reopen();
            return null;
        }, false).onSuccess(v -> LOG.info("audit log {} reopened", audit.file()))
                .onFailure(e -> LOG.error("audit log {} not reopened, still writing to the file open before: {}",
                        audit.file(), e.getMessage()))
                .otherwiseEmpty();
    }

    private void watchPolicy() {
        config.authz().policy().ifPresent(file -> {
            policyWatcher = new FileWatcher(vertx, List.of(file), WATCH_PERIOD_MS, () -> {
                LOG.info("policy file {} changed; reloading", file);
                reloadPolicy();
            });
            policyWatcher.start();
        });
    }

    /**
     * Reads the policy file again; a valid policy replaces the one in force for every request that starts
     * afterwards, an invalid one is reported and the old one stays.
     */
    public Future<Void> reloadPolicy() {
        if (config.authz().policy().isEmpty() || vertx == null) {
            return Future.succeededFuture();
        }
        Path file = config.authz().policy().get();
        return vertx.executeBlocking(() -> PolicyLoader.load(file), false)
                .onSuccess(p -> {
                    authorizer.install(p);
                    LOG.info("authorization policy {} reloaded: {} binding(s){}", file, p.bindings().size(),
                            authorizer.dryRun() ? ", DRY RUN" : "");
                    audit.record(new AuditRecord.PolicyReload(AuditLog.now(), true, file.toString(), null));
                })
                .onFailure(e -> {
                    LOG.error("policy reload failed, keeping the policy in force: {}", e.getMessage());
                    audit.record(new AuditRecord.PolicyReload(AuditLog.now(), false, file.toString(), String.valueOf(e.getMessage())));
                })
                .mapEmpty();
    }

    /** The audit log's file. */
    public Path auditFile() {
        return config.authz().auditLog();
    }

    /** Watches the pipeline's decisions and handlers from now on (tests); the daemon must be running. */
    public void observe(io.dockgate.gateway.http.RequestObserver observer) {
        if (pipeline == null) {
            throw new IllegalStateException("the daemon is " + state);
        }
        pipeline.observe(observer);
    }

    public Authorizer authorizer() {
        return authorizer;
    }

    private void auditRejection(HandshakeRejection r) {
        audit.record(new AuditRecord.HandshakeRefusal(AuditLog.now(), r.listener(), r.remote(), r.reason(),
                r.subject(), r.subject() == null ? null : r.serial()));
    }

    private void logMaterial(String verb, TlsMaterial material) {
        LOG.info("TLS material {}: server {} valid until {}, {} trusted CA(s), {} CRL(s)", verb,
                CertificateInfo.describe(material.serverCertificate()), material.serverCertificate().getNotAfter().toInstant(),
                material.validator().caCertificates().size(), material.validator().revocations().size());
        material.validator().revocations().earliestNextUpdate().ifPresent(next -> {
            if (next.isBefore(Instant.now())) {
                LOG.warn("the CRL's nextUpdate {} has passed: refresh it (dockgate certs crl)", next);
            }
        });
    }

    private List<String> warnings() {
        List<String> warnings = new ArrayList<>();
        if (config.tls().isEmpty() && config.hosts().stream().anyMatch(h -> h instanceof ListenAddress.Tcp)) {
            warnings.add("WARNING: API is accessible on plain TCP (loopback opt-in) without caller identity");
        }
        if (authorizer.policy().isEmpty()) {
            warnings.add("WARNING: no authorization policy: every authenticated caller may do everything");
        } else if (authorizer.dryRun()) {
            warnings.add("WARNING: the authorization policy runs in dry-run mode: denials are audited, not enforced");
        }
        return warnings;
    }

    private void handshakeRejected(HandshakeRejection rejection) {
        stats.handshakeRejected();
        for (HandshakeListener l : handshakeListeners) {
            try {
                l.rejected(rejection);
            } catch (RuntimeException e) {
                LOG.warn("handshake listener failed: {}", e.toString());
            }
        }
    }

    private void logRejection(HandshakeRejection r) {
        LOG.warn("TLS handshake refused on {} from {}: {}{}", r.listener(), r.remote(), r.reason(),
                r.subject() != null ? " (subject \"" + r.subject() + "\", serial " + r.serial() + ")" : "");
    }

    /** Stops listeners, closes connections, the engine and Vert.x, and removes the pid file. */
    public synchronized Future<Void> stop() {
        if (state == State.STOPPED || state == State.STOPPING) {
            return Future.succeededFuture();
        }
        state = State.STOPPING;
        if (watcher != null) {
            watcher.stop();
        }
        if (policyWatcher != null) {
            policyWatcher.stop();
        }
        if (vertx == null) {
            cleanup();
            state = State.STOPPED;
            return Future.succeededFuture();
        }
        List<Future<Void>> closing = new ArrayList<>();
        for (Listener l : listeners) {
            closing.add(l.close());
        }
        listeners.clear();
        connections.closeAll();
        return Future.join(closing)
                .eventually(() -> upstream != null ? upstream.close() : Future.succeededFuture())
                .eventually(() -> vertx.close())
                .eventually(() -> {
                    cleanup();
                    state = State.STOPPED;
                    LOG.info("dockgate stopped");
                    return Future.succeededFuture();
                }).mapEmpty();
    }

    private void cleanup() {
        if (upstreamRecords != null) {
            upstreamRecords.sync();
        }
        if (engine != null) {
            engine.close();
        }
        if (audit != null) {
            audit.close();
        }
        if (pidfile != null) {
            pidfile.release();
        }
    }
}
