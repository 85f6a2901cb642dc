package io.dockgate.gateway.cli;

import io.dockgate.config.ConfigKey;
import io.dockgate.config.DaemonConfig;
import io.dockgate.config.DaemonConfigLoader;
import io.dockgate.gateway.Daemon;
import io.dockgate.gateway.Logging;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dockgate daemon}: flags as dockerd's where the concept is the same. Runs until SIGTERM or
 * SIGINT; SIGHUP reloads the TLS material and the authorization policy (as do changes to their files).
 */
@Command(name = "daemon", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run the daemon.")
public final class DaemonCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(DaemonCommand.class);

    @Option(names = {"-H", "--host"}, paramLabel = "ADDR",
            description = "listen address: unix:///path or tcp://host:port (repeatable; default unix:///var/run/dockgate.sock)")
    List<String> hosts;
    @Option(names = "--tlsverify", arity = "0..1", fallbackValue = "true",
            description = "serve TCP with mutual TLS: client certificates required and verified against --tlscacert")
    Boolean tlsVerify;
    @Option(names = "--tlscacert", paramLabel = "FILE", description = "CA bundle trusted for client certificates (that CA alone)")
    String tlsCaCert;
    @Option(names = "--tlscert", paramLabel = "FILE", description = "server certificate (chain) in PEM")
    String tlsCert;
    @Option(names = "--tlskey", paramLabel = "FILE", description = "server private key in PEM")
    String tlsKey;
    @Option(names = "--tlscrl", paramLabel = "FILE", description = "certificate revocation list(s) in PEM, signed by the CA")
    String tlsCrl;
    @Option(names = "--insecure-tcp-loopback", arity = "0..1", fallbackValue = "true",
            description = "allow a plain-HTTP TCP listener on a loopback address (callers have no identity)")
    Boolean insecureTcpLoopback;
    @Option(names = {"-G", "--group"}, description = "group owning the Unix socket (default docker)")
    String group;
    @Option(names = "--data-root", paramLabel = "DIR", description = "persistent state (default /var/lib/dockgate)")
    String dataRoot;
    @Option(names = "--exec-root", paramLabel = "DIR", description = "runtime state (default /run/dockgate)")
    String execRoot;
    @Option(names = {"-p", "--pidfile"}, paramLabel = "FILE", description = "pid file (default /var/run/dockgate.pid)")
    String pidfile;
    @Option(names = "--config-file", paramLabel = "FILE",
            description = "daemon configuration (JSON, dockerd's daemon.json keys; default /etc/dockgate/daemon.json if it exists)")
    Path configFile;
    @Option(names = {"-D", "--debug"}, arity = "0..1", fallbackValue = "true", description = "debug logging")
    Boolean debug;
    @Option(names = {"-l", "--log-level"}, description = "debug, info, warn, error or fatal (default info)")
    String logLevel;

    @Option(names = "--authz-policy", paramLabel = "FILE",
            description = "authorization policy (YAML or JSON); without it every authenticated caller may do everything")
    String authzPolicy;
    @Option(names = "--authz-dry-run", arity = "0..1", fallbackValue = "true",
            description = "audit would-be denials of the policy without enforcing them")
    Boolean authzDryRun;
    @Option(names = "--audit-log", paramLabel = "FILE",
            description = "hash-chained audit log (default <data-root>/audit/audit.log)")
    String auditLog;
    @Option(names = "--max-request-body", paramLabel = "SIZE",
            description = "largest create/exec/update body read before the decision (default 4m); larger: 413")
    String maxRequestBody;
    @Option(names = "--max-build-context", paramLabel = "SIZE",
            description = "largest build context unpacked, uncompressed (default 10g); larger builds fail")
    String maxBuildContext;
    @Option(names = "--max-connections-per-identity", paramLabel = "N",
            description = "connections one identity may hold open at once (default 512; 0: no limit; root on the Unix socket is not limited)")
    Integer maxConnectionsPerIdentity;
    @Option(names = "--max-concurrent-handshakes", paramLabel = "N",
            description = "TLS handshakes in progress at once, from all addresses (default 256; 0: no bound); more are refused")
    Integer maxConcurrentHandshakes;
    @Option(names = "--max-concurrent-handshakes-per-ip", paramLabel = "N",
            description = "TLS handshakes in progress at once from one source address (default 32; 0: no bound)")
    Integer maxConcurrentHandshakesPerIp;
    @Option(names = "--bridge", paramLabel = "NAME",
            description = "the default network's Linux bridge (default dockgate0); none: no bridge network, containers default to"
                    + " network none")
    String bridge;
    @Option(names = "--bip", paramLabel = "CIDR", description = "the default bridge's address and prefix, e.g. 172.30.0.1/16"
            + " (default: the first free subnet of 172.17-31.0.0/16, 192.168.0-240.0/20)")
    String bip;
    @Option(names = "--dns", paramLabel = "IP", description = "a resolver for containers (repeatable; default: the host's)")
    List<String> dns;
    @Option(names = "--registry-mirror", paramLabel = "URL", description = "a mirror Docker Hub pulls try first (repeatable)")
    List<String> registryMirrors;
    @Option(names = "--insecure-registry", paramLabel = "HOST|CIDR",
            description = "a registry reached without TLS verification or over plain HTTP (repeatable; 127.0.0.0/8 always is)")
    List<String> insecureRegistries;
    @Option(names = "--max-download-attempts", paramLabel = "N",
            description = "tries of a registry request that cannot connect or answers 5xx, with back-off (default 5)")
    Integer maxDownloadAttempts;
    @Option(names = "--registry-certs-dir", paramLabel = "DIR",
            description = "per-registry CAs and client certificates, <host[:port]>/*.crt, *.cert, *.key (default /etc/docker/certs.d)")
    String registryCertsDir;
    @Option(names = "--iptables", paramLabel = "BOOL", arity = "1",
            description = "write the daemon's iptables chains: masquerading, isolation, published ports (default true)")
    Boolean iptables;
    @Option(names = "--idle-connection-timeout", paramLabel = "SECONDS",
            description = "close a connection idle this long between requests (default 0: never, as dockerd; streams are never cut;"
                    + " docker-java clients fail a request on a pooled connection closed this way)")
    Integer idleConnectionTimeout;

    @Option(names = "--upstream", paramLabel = "ADDRESS",
            description = "guard an existing Docker Engine instead of running the embedded one: unix:///var/run/docker.sock or"
                    + " tcp://host:2376; every request passes this daemon's listeners, identity, policy and audit, then goes there")
    String upstream;
    @Option(names = "--upstream-tlscacert", paramLabel = "FILE", description = "the CA that signed the upstream's certificate")
    String upstreamTlsCaCert;
    @Option(names = "--upstream-tlscert", paramLabel = "FILE", description = "the client certificate presented to the upstream")
    String upstreamTlsCert;
    @Option(names = "--upstream-tlskey", paramLabel = "FILE", description = "the key of the client certificate presented to the upstream")
    String upstreamTlsKey;

    Map<ConfigKey, Object> flags() {
        Map<ConfigKey, Object> flags = new EnumMap<>(ConfigKey.class);
        if (hosts != null) {
            flags.put(ConfigKey.HOSTS, List.copyOf(hosts));
        }
        put(flags, ConfigKey.TLS_VERIFY, tlsVerify);
        put(flags, ConfigKey.TLS_CA_CERT, tlsCaCert);
        put(flags, ConfigKey.TLS_CERT, tlsCert);
        put(flags, ConfigKey.TLS_KEY, tlsKey);
        put(flags, ConfigKey.TLS_CRL, tlsCrl);
        put(flags, ConfigKey.INSECURE_TCP_LOOPBACK, insecureTcpLoopback);
        put(flags, ConfigKey.GROUP, group);
        put(flags, ConfigKey.DATA_ROOT, dataRoot);
        put(flags, ConfigKey.EXEC_ROOT, execRoot);
        put(flags, ConfigKey.PIDFILE, pidfile);
        put(flags, ConfigKey.DEBUG, debug);
        put(flags, ConfigKey.LOG_LEVEL, logLevel);
        put(flags, ConfigKey.AUTHZ_POLICY, authzPolicy);
        put(flags, ConfigKey.AUTHZ_DRY_RUN, authzDryRun);
        put(flags, ConfigKey.AUDIT_LOG, auditLog);
        put(flags, ConfigKey.MAX_REQUEST_BODY, maxRequestBody);
        put(flags, ConfigKey.MAX_BUILD_CONTEXT, maxBuildContext);
        put(flags, ConfigKey.UPSTREAM, upstream);
        put(flags, ConfigKey.UPSTREAM_TLS_CA_CERT, upstreamTlsCaCert);
        put(flags, ConfigKey.UPSTREAM_TLS_CERT, upstreamTlsCert);
        put(flags, ConfigKey.UPSTREAM_TLS_KEY, upstreamTlsKey);
        put(flags, ConfigKey.MAX_CONNECTIONS_PER_IDENTITY, maxConnectionsPerIdentity);
        put(flags, ConfigKey.IDLE_CONNECTION_TIMEOUT, idleConnectionTimeout);
        put(flags, ConfigKey.MAX_CONCURRENT_HANDSHAKES, maxConcurrentHandshakes);
        put(flags, ConfigKey.BRIDGE, bridge);
        put(flags, ConfigKey.BIP, bip);
        put(flags, ConfigKey.IPTABLES, iptables);
        put(flags, ConfigKey.DNS, dns);
        put(flags, ConfigKey.REGISTRY_MIRRORS, registryMirrors);
        put(flags, ConfigKey.INSECURE_REGISTRIES, insecureRegistries);
        put(flags, ConfigKey.MAX_DOWNLOAD_ATTEMPTS, maxDownloadAttempts);
        put(flags, ConfigKey.REGISTRY_CERTS_DIR, registryCertsDir);
        put(flags, ConfigKey.MAX_CONCURRENT_HANDSHAKES_PER_IP, maxConcurrentHandshakesPerIp);
        return flags;
    }

    private static void put(Map<ConfigKey, Object> flags, ConfigKey key, Object value) {
        if (value != null) {
            flags.put(key, value);
        }
    }

    @Override
    public Integer call() throws Exception {
        DaemonConfig config = DaemonConfigLoader.load(flags(), Optional.ofNullable(configFile).map(Path::toAbsolutePath));
        Logging.setLevel(config.logLevel());
        config.configFile().ifPresent(f -> LOG.info("configuration read from {}", f));
        Daemon daemon = new Daemon(config);
        CountDownLatch stopped = new CountDownLatch(1);
        // before the start: a SIGHUP meanwhile (a log rotation during a restart) is a reload that finds the
        // daemon not running yet and does nothing, where the JVM's own handler would have shut it down
        boolean hangups = Signals.onHangup(() -> {
            LOG.info("SIGHUP: reloading");
            daemon.reload();
        });
        if (!hangups) {
            LOG.warn("SIGHUP is ignored in this process (started under nohup?): it will not reload the TLS files, the policy"
                    + " or reopen the audit log; start the daemon without nohup (setsid, systemd)");
        }
        try {
            daemon.start().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(cause.getMessage(), cause);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("shutting down");
            try {
                daemon.stop().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("unclean shutdown: {}", e.toString());
            }
            io.dockgate.gateway.Logging.flush(); // the last lines, written by the asynchronous appender
            stopped.countDown();
        }, "dockgate-shutdown"));
        stopped.await();
        return ExitCodes.OK;
    }
}
