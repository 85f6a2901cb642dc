package io.dockgate.config;

import java.util.Arrays;
import java.util.Optional;

/**
 * Every key the daemon configuration file accepts. Names and meanings follow dockerd's daemon.json
 * where the concept is the same; {@code tlscrl}, {@code insecure-tcp-loopback}, the authorization and audit keys, the
 * connection limits, {@code registry-certs-dir} and the upstream keys are dockgate's own.
 */
public enum ConfigKey {
    HOSTS("hosts", Type.STRING_LIST, "-H"),
    TLS_VERIFY("tlsverify", Type.BOOLEAN, "--tlsverify"),
    TLS_CA_CERT("tlscacert", Type.STRING, "--tlscacert"),
    TLS_CERT("tlscert", Type.STRING, "--tlscert"),
    TLS_KEY("tlskey", Type.STRING, "--tlskey"),
    TLS_CRL("tlscrl", Type.STRING, "--tlscrl"),
    INSECURE_TCP_LOOPBACK("insecure-tcp-loopback", Type.BOOLEAN, "--insecure-tcp-loopback"),
    GROUP("group", Type.STRING, "--group"),
    DATA_ROOT("data-root", Type.STRING, "--data-root"),
    EXEC_ROOT("exec-root", Type.STRING, "--exec-root"),
    PIDFILE("pidfile", Type.STRING, "--pidfile"),
    DEBUG("debug", Type.BOOLEAN, "--debug"),
    LOG_LEVEL("log-level", Type.STRING, "--log-level"),
    AUTHZ_POLICY("authorization-policy", Type.STRING, "--authz-policy"),
    AUTHZ_DRY_RUN("authorization-dry-run", Type.BOOLEAN, "--authz-dry-run"),
    AUDIT_LOG("audit-log", Type.STRING, "--audit-log"),
    MAX_REQUEST_BODY("max-request-body", Type.STRING, "--max-request-body"),
    MAX_BUILD_CONTEXT("max-build-context", Type.STRING, "--max-build-context"),
    MAX_CONNECTIONS_PER_IDENTITY("max-connections-per-identity", Type.INTEGER, "--max-connections-per-identity"),
    IDLE_CONNECTION_TIMEOUT("idle-connection-timeout", Type.INTEGER, "--idle-connection-timeout"),
    MAX_CONCURRENT_HANDSHAKES("max-concurrent-handshakes", Type.INTEGER, "--max-concurrent-handshakes"),
    MAX_CONCURRENT_HANDSHAKES_PER_IP("max-concurrent-handshakes-per-ip", Type.INTEGER, "--max-concurrent-handshakes-per-ip"),
    BRIDGE("bridge", Type.STRING, "--bridge"),
    BIP("bip", Type.STRING, "--bip"),
    IPTABLES("iptables", Type.BOOLEAN, "--iptables"),
    DNS("dns", Type.STRING_LIST, "--dns"),
    REGISTRY_MIRRORS("registry-mirrors", Type.STRING_LIST, "--registry-mirror"),
    INSECURE_REGISTRIES("insecure-registries", Type.STRING_LIST, "--insecure-registry"),
    MAX_DOWNLOAD_ATTEMPTS("max-download-attempts", Type.INTEGER, "--max-download-attempts"),
    REGISTRY_CERTS_DIR("registry-certs-dir", Type.STRING, "--registry-certs-dir"),
    UPSTREAM("upstream", Type.STRING, "--upstream"),
    UPSTREAM_TLS_CA_CERT("upstream-tlscacert", Type.STRING, "--upstream-tlscacert"),
    UPSTREAM_TLS_CERT("upstream-tlscert", Type.STRING, "--upstream-tlscert"),
    UPSTREAM_TLS_KEY("upstream-tlskey", Type.STRING, "--upstream-tlskey");

    /** The JSON types a key may take. */
    public enum Type {
        STRING("a string"), BOOLEAN("a boolean"), STRING_LIST("an array of strings"), INTEGER("a whole number");

        private final String description;

        Type(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }

    private final String key;
    private final Type type;
    private final String flag;

    ConfigKey(String key, Type type, String flag) {
        this.key = key;
        this.type = type;
        this.flag = flag;
    }

    public String key() {
        return key;
    }

    public Type type() {
        return type;
    }

    /** The command-line flag that sets the same value. */
    public String flag() {
        return flag;
    }

    public static Optional<ConfigKey> byKey(String key) {
        return Arrays.stream(values()).filter(k -> k.key.equals(key)).findFirst();
    }
}
