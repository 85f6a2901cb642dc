package io.dockgate.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The daemon's configuration after flags and the configuration file were merged and validated.
 * Immutable; a reload builds a new one.
 *
 * @param hosts      listeners ({@code -H}); default {@code unix:///var/run/dockgate.sock}
 * @param tls        TLS material for TCP listeners, present when {@code --tlsverify} is on
 * @param insecureTcpLoopback plain TCP allowed on loopback addresses (explicit opt-in)
 * @param group      group owning the Unix socket; default {@code docker}
 * @param dataRoot   persistent state; default {@code /var/lib/dockgate}
 * @param execRoot   runtime state; default {@code /run/dockgate}
 * @param pidfile    default {@code /var/run/dockgate.pid}
 * @param logLevel   debug, info, warn or error; default info
 * @param configFile the file that was read, if any
 * @param authz      authorization policy, audit log and request limits
 * @param connections limits on client connections
 * @param network    the default bridge network and the firewall
 * @param maxBuildContext the largest build context ({@code --max-build-context})
 * @param upstream   the Docker Engine guarded in upstream mode ({@code --upstream}); empty: the embedded engine
 * @param registry   how registries are reached: mirrors, insecure registries, per-registry certificates, attempts
 */
public record DaemonConfig(List<ListenAddress> hosts, Optional<TlsConfig> tls, boolean insecureTcpLoopback,
                           String group, Path dataRoot, Path execRoot, Path pidfile, String logLevel,
                           Optional<Path> configFile, AuthzConfig authz, ConnectionLimits connections, NetworkConfig network,
                           long maxBuildContext, Optional<Upstream> upstream, RegistryConfig registry) {
    /** The largest build context unpacked, uncompressed ({@code --max-build-context}). */
    public static final long DEFAULT_MAX_BUILD_CONTEXT = 10L << 30;

    public static final String DEFAULT_SOCKET = "unix:///var/run/dockgate.sock";
    public static final String DEFAULT_GROUP = "docker";
    public static final Path DEFAULT_DATA_ROOT = Path.of("/var/lib/dockgate");
    public static final Path DEFAULT_EXEC_ROOT = Path.of("/run/dockgate");
    public static final Path DEFAULT_PIDFILE = Path.of("/var/run/dockgate.pid");
    public static final Path DEFAULT_CONFIG_FILE = Path.of("/etc/dockgate/daemon.json");

    public DaemonConfig {
        hosts = List.copyOf(hosts);
    }

    /**
     * The Docker Engine API dockgate guards in upstream mode: every request passes the same pipeline and is
     * forwarded there; no embedded engine runs.
     *
     * @param socket a Unix socket ({@code unix:///var/run/docker.sock}), or empty for TCP
     * @param host   the TCP host ({@code tcp://host:port}), empty for a Unix socket
     * @param port   the TCP port
     * @param tls    the client certificate, key and CA that dockgate presents to and trusts from the upstream;
     *               required for TCP unless the host is a loopback address
     */
    public record Upstream(Optional<Path> socket, Optional<String> host, int port, Optional<UpstreamTls> tls) {
        @Override
        public String toString() {
            return socket.map(s -> "unix://" + s).orElseGet(() -> "tcp://" + host.orElse("") + ":" + port);
        }
    }

    /** The client side of mutual TLS with the upstream ({@code --upstream-tlscacert/-tlscert/-tlskey}). */
    public record UpstreamTls(Path caCert, Path cert, Path key) {
    }

    /**
     * How the embedded engine reaches registries, as dockerd's keys.
     *
     * @param mirrors      {@code registry-mirrors}: Docker Hub pulls try these first (http or https URLs)
     * @param insecure     {@code insecure-registries}: hosts (host[:port]) or IPv4 CIDRs reached over HTTPS without
     *                     verification, or plain HTTP when HTTPS fails; 127.0.0.0/8 always is, as dockerd's default
     * @param certsDir     {@code registry-certs-dir}: per-registry CAs ({@code <host[:port]>/*.crt}) and client
     *                     certificates ({@code *.cert} with {@code *.key}), as /etc/docker/certs.d (the default)
     * @param maxAttempts  {@code max-download-attempts}: tries of each registry request that fails to connect or answers
     *                     5xx, with back-off (default 5, as dockerd)
     */
    public record RegistryConfig(List<String> mirrors, List<String> insecure, Path certsDir, int maxAttempts) {
        public static final Path DEFAULT_CERTS_DIR = Path.of("/etc/docker/certs.d");
        public static final int DEFAULT_MAX_ATTEMPTS = 5;
        public static final RegistryConfig DEFAULTS = new RegistryConfig(List.of(), List.of(), DEFAULT_CERTS_DIR, DEFAULT_MAX_ATTEMPTS);

        public RegistryConfig {
            mirrors = List.copyOf(mirrors);
            insecure = List.copyOf(insecure);
        }
    }

    /** The Linux bridge of the default network, as dockerd's {@code --bridge} names docker0. */
    public static final String DEFAULT_BRIDGE = "dockgate0";

    /**
     * @param bridge   the default network's Linux bridge ({@code --bridge}); "none": no bridge network, containers
     *                 default to network none
     * @param bip      the default bridge's address and prefix ({@code --bip}, e.g. 172.30.0.1/16); empty: the first free
     *                 subnet of dockerd's pools
     * @param iptables whether the daemon writes its iptables chains ({@code --iptables}, default true): without them
     *                 there is no masquerading, isolation or published port
     * @param dns      resolvers for containers ({@code --dns}): the default bridge's resolv.conf and the embedded DNS's
     *                 upstream; empty: the host's
     */
    public record NetworkConfig(String bridge, Optional<String> bip, boolean iptables, List<String> dns) {
        public static final NetworkConfig DEFAULTS = new NetworkConfig(DEFAULT_BRIDGE, Optional.empty(), true, List.of());
    }

    /**
     * Server TLS material for mutual TLS.
     *
     * @param caCert trusted client CA bundle ({@code --tlscacert})
     * @param cert   server certificate chain ({@code --tlscert})
     * @param key    server private key ({@code --tlskey})
     * @param crl    revocation list ({@code --tlscrl}), optional
     */
    public record TlsConfig(Path caCert, Path cert, Path key, Optional<Path> crl) {
    }

    /** Default limit on a buffered request body (create, exec, update): 4 MiB. */
    public static final long DEFAULT_MAX_REQUEST_BODY = 4L << 20;

    /**
     * Authorization and audit.
     *
     * @param policy         the policy file ({@code --authz-policy}); without it every authenticated caller may do
     *                       everything, as with dockerd
     * @param dryRun         record would-be denials without enforcing them ({@code --authz-dry-run})
     * @param auditLog       the hash-chained audit log ({@code --audit-log}; default {@code <data-root>/audit/audit.log})
     * @param maxRequestBody the largest JSON body read before a decision ({@code --max-request-body}); over it: 413
     */
    public record AuthzConfig(Optional<Path> policy, boolean dryRun, Path auditLog, long maxRequestBody) {
    }

    /** Default limit on the connections one identity holds open at once. */
    public static final int DEFAULT_MAX_CONNECTIONS_PER_IDENTITY = 512;
    /**
     * Default time a connection may sit idle between requests, in seconds: 0, never, as with dockerd.
     * docker-java (and so Testcontainers) sends its next request on a pooled connection the server closed
     * and fails a POST with "failed to respond" instead of retrying: a timeout is an operator's choice.
     */
    public static final int DEFAULT_IDLE_CONNECTION_TIMEOUT = 0;
    /** TLS handshakes in progress at once, from all addresses. */
    public static final int DEFAULT_MAX_CONCURRENT_HANDSHAKES = 256;
    /** TLS handshakes in progress at once from one source address. */
    public static final int DEFAULT_MAX_CONCURRENT_HANDSHAKES_PER_IP = 32;

    /**
     * Limits on client connections (dockerd has neither).
     *
     * @param maxPerIdentity        connections one identity (certificate CN, or Unix uid) may hold open at once
     *                              ({@code --max-connections-per-identity}); requests on one more are answered 429
     *                              and it is closed; 0: no limit. Root on the Unix socket is not limited.
     * @param idleTimeoutSeconds    a connection with no request in progress and no byte read or written for this
     *                              long is closed ({@code --idle-connection-timeout}); streams (events, logs
     *                              --follow, wait, attach, exec) are never cut; 0: never
     * @param maxHandshakes         TLS handshakes in progress at once, all addresses ({@code --max-concurrent-handshakes});
     *                              a connection over it is refused at its first TLS record; 0: no bound
     * @param maxHandshakesPerIp    the same from one source address ({@code --max-concurrent-handshakes-per-ip})
     */
    public record ConnectionLimits(int maxPerIdentity, int idleTimeoutSeconds, int maxHandshakes, int maxHandshakesPerIp) {
        public static final ConnectionLimits DEFAULTS = new ConnectionLimits(DEFAULT_MAX_CONNECTIONS_PER_IDENTITY,
                DEFAULT_IDLE_CONNECTION_TIMEOUT, DEFAULT_MAX_CONCURRENT_HANDSHAKES, DEFAULT_MAX_CONCURRENT_HANDSHAKES_PER_IP);
    }
}
