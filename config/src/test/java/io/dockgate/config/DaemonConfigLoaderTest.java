package io.dockgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Merging flags and daemon.json, and the errors that stop a start. */
class DaemonConfigLoaderTest {
    @TempDir
    Path tmp;

    private Path file(String json) throws Exception {
        Path f = tmp.resolve("daemon.json");
        Files.writeString(f, json);
        return f;
    }

    private static final Map<ConfigKey, Object> TLS_FLAGS = Map.of(
            ConfigKey.TLS_VERIFY, true, ConfigKey.TLS_CA_CERT, "/pki/ca.pem",
            ConfigKey.TLS_CERT, "/pki/server-cert.pem", ConfigKey.TLS_KEY, "/pki/server-key.pem");

    @Test
    void defaultsWithoutFlagsOrFile() {
        DaemonConfig config = DaemonConfigLoader.load(Map.of(), Optional.of(missingButDefault()));
        assertThat(config.hosts()).containsExactly(new ListenAddress.Unix(Path.of("/var/run/dockgate.sock")));
        assertThat(config.group()).isEqualTo("docker");
        assertThat(config.dataRoot()).isEqualTo(Path.of("/var/lib/dockgate"));
        assertThat(config.tls()).isEmpty();
    }

    private Path missingButDefault() {
        try {
            return file("{}");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void fileValuesAreReadAndTlsPortDefaultsTo2376() throws Exception {
        Path f = file("""
                {"hosts": ["tcp://127.0.0.1", "unix:///tmp/x.sock"], "tlsverify": true,
                 "tlscacert": "/pki/ca.pem", "tlscert": "/pki/cert.pem", "tlskey": "/pki/key.pem",
                 "tlscrl": "/pki/crl.pem", "group": "dockgate", "data-root": "/srv/dg"}
                """);
        DaemonConfig config = DaemonConfigLoader.load(Map.of(), Optional.of(f));
        assertThat(config.hosts()).containsExactly(new ListenAddress.Tcp("127.0.0.1", 2376),
                new ListenAddress.Unix(Path.of("/tmp/x.sock")));
        assertThat(config.tls().orElseThrow().crl()).contains(Path.of("/pki/crl.pem"));
        assertThat(config.group()).isEqualTo("dockgate");
        assertThat(config.dataRoot()).isEqualTo(Path.of("/srv/dg"));
        assertThat(config.configFile()).contains(f);
    }

    @Test
    void unknownKeyNamesFileLineAndKey() throws Exception {
        Path f = file("{\n  \"group\": \"docker\",\n  \"tlsverfy\": true\n}");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(), Optional.of(f)))
                .isInstanceOf(ConfigException.class)
                .hasMessage(f + ":3: key \"tlsverfy\" is not a known configuration option");
    }

    @Test
    void wrongTypeNamesTheKeyAndTheExpectedType() throws Exception {
        Path f = file("{\"tlsverify\": \"yes\"}");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(), Optional.of(f)))
                .hasMessageContaining("key \"tlsverify\" must be a boolean, found string");
        Path g = file("{\"hosts\": \"unix:///x\"}");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(), Optional.of(g)))
                .hasMessageContaining("key \"hosts\" must be an array of strings");
    }

    @Test
    void duplicateKeysAndBrokenJsonAreRefused() throws Exception {
        Path f = file("{\"group\": \"a\", \"group\": \"b\"}");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(), Optional.of(f)))
                .hasMessageContaining("Duplicate field 'group'");
        Path g = file("{\"group\": }");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(), Optional.of(g))).hasMessageContaining("invalid JSON");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(), Optional.of(tmp.resolve("nope.json"))))
                .hasMessageContaining("does not exist");
    }

    @Test
    void keySetByFlagAndFileIsAConflict() throws Exception {
        Path f = file("{\"group\": \"a\"}");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.GROUP, "b"), Optional.of(f)))
                .hasMessageContaining("specified both as a flag and in the configuration file")
                .hasMessageContaining("group: (from flag: b, from file: a)");
    }

    @Test
    void tcpWithoutTlsIsRefusedUnlessLoopbackAndOptedIn() throws Exception {
        Path empty = file("{}");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.HOSTS, List.of("tcp://0.0.0.0:2375")), Optional.of(empty)))
                .hasMessageContaining("requires mutual TLS");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.HOSTS, List.of("tcp://127.0.0.1:2375")), Optional.of(empty)))
                .hasMessageContaining("--insecure-tcp-loopback");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.HOSTS, List.of("tcp://10.0.0.1:2375"),
                ConfigKey.INSECURE_TCP_LOOPBACK, true), Optional.of(empty)))
                .hasMessageContaining("only on a loopback address");
        DaemonConfig ok = DaemonConfigLoader.load(Map.of(ConfigKey.HOSTS, List.of("tcp://127.0.0.1"),
                ConfigKey.INSECURE_TCP_LOOPBACK, true), Optional.of(empty));
        assertThat(ok.hosts()).containsExactly(new ListenAddress.Tcp("127.0.0.1", 2375));
    }

    @Test
    void tlsVerifyNeedsItsThreeFilesAndTlsFilesNeedVerify() throws Exception {
        Path empty = file("{}");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.TLS_VERIFY, true), Optional.of(empty)))
                .hasMessageContaining("--tlscacert");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.TLS_CERT, "/x.pem"), Optional.of(empty)))
                .hasMessageContaining("flag --tlscert is set but TLS verification is off");
        DaemonConfig config = DaemonConfigLoader.load(TLS_FLAGS, Optional.of(empty));
        assertThat(config.tls()).isPresent();
    }

    @Test
    void badAddressesAreNamed() throws Exception {
        Path empty = file("{}");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.HOSTS, List.of("unix://relative")), Optional.of(empty)))
                .hasMessageContaining("absolute path");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.HOSTS, List.of("http://x")), Optional.of(empty)))
                .hasMessageContaining("unknown address scheme");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.HOSTS, List.of("tcp://127.0.0.1:99999")), Optional.of(empty)))
                .hasMessageContaining("port out of range");
    }

    @Test
    void authorizationAndAuditKeys() throws Exception {
        DaemonConfig defaults = DaemonConfigLoader.load(Map.of(ConfigKey.DATA_ROOT, "/srv/dg"), Optional.of(file("{}")));
        assertThat(defaults.authz().policy()).isEmpty();
        assertThat(defaults.authz().auditLog()).isEqualTo(Path.of("/srv/dg/audit/audit.log"));
        assertThat(defaults.authz().maxRequestBody()).isEqualTo(4L << 20);

        DaemonConfig set = DaemonConfigLoader.load(Map.of(ConfigKey.AUTHZ_DRY_RUN, true), Optional.of(file(
                "{\"authorization-policy\": \"/etc/dockgate/policy.yaml\", \"audit-log\": \"/var/log/dg/audit.log\","
                        + " \"max-request-body\": \"1m\"}")));
        assertThat(set.authz().policy()).contains(Path.of("/etc/dockgate/policy.yaml"));
        assertThat(set.authz().dryRun()).isTrue();
        assertThat(set.authz().auditLog()).isEqualTo(Path.of("/var/log/dg/audit.log"));
        assertThat(set.authz().maxRequestBody()).isEqualTo(1L << 20);

        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.AUTHZ_DRY_RUN, true), Optional.of(file("{}"))))
                .isInstanceOf(ConfigException.class).hasMessage("flag --authz-dry-run: dry-run needs a policy (--authz-policy)");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.MAX_REQUEST_BODY, "lots"), Optional.of(file("{}"))))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("flag --max-request-body: invalid size \"lots\"");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.MAX_REQUEST_BODY, "100"), Optional.of(file("{}"))))
                .isInstanceOf(ConfigException.class).hasMessage("flag --max-request-body: must be at least 1k");
    }

    @Test
    void connectionLimits() throws Exception {
        DaemonConfig defaults = DaemonConfigLoader.load(Map.of(), Optional.of(file("{}")));
        assertThat(defaults.connections()).isEqualTo(new DaemonConfig.ConnectionLimits(512, 0, 256, 32));

        DaemonConfig set = DaemonConfigLoader.load(Map.of(ConfigKey.IDLE_CONNECTION_TIMEOUT, 600, ConfigKey.MAX_CONCURRENT_HANDSHAKES, 0),
                Optional.of(file("{\"max-connections-per-identity\": 16, \"max-concurrent-handshakes-per-ip\": 4}")));
        assertThat(set.connections()).isEqualTo(new DaemonConfig.ConnectionLimits(16, 600, 0, 4));

        Path f = file("{\"max-connections-per-identity\": -1}");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(), Optional.of(f))).isInstanceOf(ConfigException.class)
                .hasMessage(f + ":1: key \"max-connections-per-identity\": must be a whole number from 0 (no limit) to 1000000, found -1");
        Path g = file("{\"idle-connection-timeout\": \"5m\"}");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(), Optional.of(g)))
                .hasMessageContaining("key \"idle-connection-timeout\" must be a whole number, found string");
        Path h = file("{\"idle-connection-timeout\": 1.5}");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(), Optional.of(h)))
                .hasMessageContaining("key \"idle-connection-timeout\" must be a whole number, found number");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.IDLE_CONNECTION_TIMEOUT, 99_999_999), Optional.of(file("{}"))))
                .hasMessage("flag --idle-connection-timeout: must be a whole number from 0 (no limit) to 2592000, found 99999999");
    }

    @Test
    void registryKeysAsDockerdsWithTheirValuesChecked() throws Exception {
        DaemonConfig defaults = DaemonConfigLoader.load(Map.of(), Optional.of(file("{}")));
        assertThat(defaults.registry()).isEqualTo(DaemonConfig.RegistryConfig.DEFAULTS);
        assertThat(defaults.registry().certsDir()).isEqualTo(Path.of("/etc/docker/certs.d"));
        DaemonConfig set = DaemonConfigLoader.load(Map.of(ConfigKey.MAX_DOWNLOAD_ATTEMPTS, 3), Optional.of(file(
                "{\"registry-mirrors\": [\"https://mirror.example.com/\"], \"insecure-registries\": [\"10.0.0.0/8\", \"reg:5000\"],"
                        + " \"registry-certs-dir\": \"/srv/certs.d\"}")));
        assertThat(set.registry()).isEqualTo(new DaemonConfig.RegistryConfig(List.of("https://mirror.example.com"),
                List.of("10.0.0.0/8", "reg:5000"), Path.of("/srv/certs.d"), 3));
        Path m = file("{\"registry-mirrors\": [\"https://user:pw@mirror.example.com\"]}");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(), Optional.of(m))).isInstanceOf(ConfigException.class)
                .hasMessage(m + ":1: key \"registry-mirrors\": a mirror is an http:// or https:// URL without credentials, found"
                        + " one with credentials (not shown)");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.INSECURE_REGISTRIES, List.of("http://reg")), Optional.of(file("{}"))))
                .hasMessage("flag --insecure-registry: a registry host[:port] or an IPv4 CIDR, found http://reg");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.MAX_DOWNLOAD_ATTEMPTS, 0), Optional.of(file("{}"))))
                .hasMessage("flag --max-download-attempts: must be a whole number from 1 to 100, found 0");
    }

    @Test
    void anUpstreamIsAUnixSocketOrTcpWithMutualTlsBeyondLoopback() throws Exception {
        DaemonConfig unix = DaemonConfigLoader.load(Map.of(ConfigKey.UPSTREAM, "unix:///var/run/docker.sock"), Optional.of(file("{}")));
        assertThat(unix.upstream().orElseThrow().socket()).contains(Path.of("/var/run/docker.sock"));
        assertThat(unix.upstream().get().toString()).isEqualTo("unix:///var/run/docker.sock");
        assertThat(DaemonConfigLoader.load(Map.of(), Optional.of(file("{}"))).upstream()).isEmpty();

        DaemonConfig tcp = DaemonConfigLoader.load(Map.of(), Optional.of(file("""
                {"upstream": "tcp://10.1.2.3:2376", "upstream-tlscacert": "/u/ca.pem", "upstream-tlscert": "/u/cert.pem",
                 "upstream-tlskey": "/u/key.pem"}
                """)));
        DaemonConfig.Upstream u = tcp.upstream().orElseThrow();
        assertThat(u.host()).contains("10.1.2.3");
        assertThat(u.port()).isEqualTo(2376);
        assertThat(u.tls().orElseThrow().cert()).isEqualTo(Path.of("/u/cert.pem"));
        assertThat(DaemonConfigLoader.load(Map.of(ConfigKey.UPSTREAM, "tcp://127.0.0.1:2375"), Optional.of(file("{}")))
                .upstream().orElseThrow().tls()).isEmpty();

        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.UPSTREAM, "tcp://10.1.2.3:2376"), Optional.of(file("{}"))))
                .hasMessageContaining("an upstream beyond loopback needs mutual TLS");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.UPSTREAM, "tcp://10.1.2.3:2376",
                ConfigKey.UPSTREAM_TLS_CERT, "/u/cert.pem"), Optional.of(file("{}"))))
                .hasMessageContaining("the upstream's TLS needs all of --upstream-tlscacert, --upstream-tlscert and --upstream-tlskey");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.UPSTREAM_TLS_KEY, "/u/key.pem"), Optional.of(file("{}"))))
                .hasMessageContaining("there is no upstream (--upstream)");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.UPSTREAM, "unix://docker.sock"), Optional.of(file("{}"))))
                .hasMessageContaining("needs an absolute path");
        assertThatThrownBy(() -> DaemonConfigLoader.load(Map.of(ConfigKey.UPSTREAM, "http://x:2375"), Optional.of(file("{}"))))
                .hasMessageContaining("the upstream is unix:///path or tcp://host:port");
    }
}
