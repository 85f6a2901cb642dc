package io.dockgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.config.ConfigKey;
import io.dockgate.gateway.testing.DockerCli;
import io.dockgate.gateway.testing.AuditTail;
import io.dockgate.gateway.testing.TestDaemon;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real docker CLI against the daemon: over mutual TLS with certificates from {@code dockgate certs}
 * and from the openssl recipe in Docker's documentation, and over the Unix socket.
 */
class DockerCliTest {
    @TempDir
    Path tmp;

    @org.junit.jupiter.api.BeforeEach
    void root() {
        io.dockgate.gateway.testing.Prerequisites.requireRoot();
    }

    private static void ok(int code) {
        assertThat(code).isZero();
    }

    private Map<ConfigKey, Object> tlsFlags(Path ca, Path cert, Path key, Path crl, Path socket) {
        Map<ConfigKey, Object> flags = TestDaemon.baseFlags(tmp);
        flags.put(ConfigKey.HOSTS, List.of("tcp://127.0.0.1:0", "unix://" + socket));
        flags.put(ConfigKey.TLS_VERIFY, true);
        flags.put(ConfigKey.TLS_CA_CERT, ca.toString());
        flags.put(ConfigKey.TLS_CERT, cert.toString());
        flags.put(ConfigKey.TLS_KEY, key.toString());
        if (crl != null) {
            flags.put(ConfigKey.TLS_CRL, crl.toString());
        }
        flags.put(ConfigKey.GROUP, "daemon");
        return flags;
    }

    @Test
    void versionAndInfoOverMutualTlsWithDockgateCertsAndOverTheUnixSocket() throws Exception {
        Path pki = tmp.resolve("pki");
        Path alice = tmp.resolve("alice");
        ok(Main.run("certs", "init", "--dir", pki.toString()));
        ok(Main.run("certs", "client", "--dir", pki.toString(), "--name", "alice", "--group", "ops", "--out", alice.toString()));
        Path socket = tmp.resolve("dg.sock");
        try (TestDaemon d = TestDaemon.start(tlsFlags(pki.resolve("ca.pem"), pki.resolve("server-cert.pem"),
                     pki.resolve("server-key.pem"), pki.resolve("crl.pem"), socket), tmp)) {
            AuditTail access = d.audit();
            Path config = tmp.resolve("docker-config");
            String host = "tcp://localhost:" + d.tcpPort();
            DockerCli.Result version = DockerCli.run(config, DockerCli.tlsEnv(host, alice), "version");
            assertThat(version.exitCode()).as(version.toString()).isZero();
            assertThat(version.stdout()).contains("Server: dockgate", "API version:      1.50 (minimum version 1.24)");
            DockerCli.Result info = DockerCli.run(config, DockerCli.tlsEnv("tcp://127.0.0.1:" + d.tcpPort(), alice), "info");
            assertThat(info.exitCode()).as(info.toString()).isZero();
            assertThat(info.stdout()).contains("Server Version:", "Storage Driver: overlay2", "OSType: linux");
            assertThat(access.await("\"operation\":\"system.info\"")).contains("\"transport\":\"tls\"", "\"name\":\"alice\"",
                    "\"groups\":[\"ops\"]");

            DockerCli.Result unixVersion = DockerCli.run(config, DockerCli.unixEnv(socket), "version", "--format", "{{.Server.APIVersion}}");
            assertThat(unixVersion.exitCode()).as(unixVersion.toString()).isZero();
            assertThat(unixVersion.stdout().trim()).isEqualTo("1.50");
            DockerCli.Result unixInfo = DockerCli.run(config, DockerCli.unixEnv(socket), "info", "--format", "{{.OSType}} {{.NCPU}}");
            assertThat(unixInfo.stdout().trim()).isEqualTo("linux " + Runtime.getRuntime().availableProcessors());

            // A foreground run over mutual TLS 1.3: the CLI half-closes (close_notify) right after the upgrade
            // and must still receive the output.
            DockerCli.Result imported = DockerCli.run(config, DockerCli.tlsEnv(host, alice), "import",
                    io.dockgate.engine.testing.TestImages.busyboxTar(tmp).toString(), "busybox");
            assertThat(imported.exitCode()).as(imported.toString()).isZero();
            DockerCli.Result run = DockerCli.run(config, DockerCli.tlsEnv(host, alice), "run", "--rm", "busybox",
                    "sh", "-c", "for i in 1 2 3; do echo tls $i; sleep 0.1; done; exit 4");
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(4);
            assertThat(run.stdout()).isEqualTo("tls 1\ntls 2\ntls 3\n");

            DockerCli.Result noCert = DockerCli.run(config, Map.of("DOCKER_HOST", host), "--tls", "--tlscacert",
                    alice.resolve("ca.pem").toString(), "version");
            assertThat(noCert.exitCode()).isNotZero();
            assertThat(noCert.stderr()).contains("client authentication (--tlsverify) enabled", "remote error: tls:");
        }
    }

    @Test
    void versionOverMutualTlsWithDockersOpensslRecipe() throws Exception {
        Path dir = tmp.resolve("openssl");
        Files.createDirectories(dir);
        // The recipe from "Protect the Docker daemon socket", without the CA key passphrase.
        openssl(dir, "genrsa", "-out", "ca-key.pem", "4096");
        openssl(dir, "req", "-new", "-x509", "-days", "365", "-key", "ca-key.pem", "-sha256", "-out", "ca.pem", "-subj", "/CN=dockgate-test-ca");
        openssl(dir, "genrsa", "-out", "server-key.pem", "4096");
        openssl(dir, "req", "-subj", "/CN=localhost", "-sha256", "-new", "-key", "server-key.pem", "-out", "server.csr");
        Files.writeString(dir.resolve("extfile.cnf"), "subjectAltName = DNS:localhost,IP:127.0.0.1\nextendedKeyUsage = serverAuth\n");
        openssl(dir, "x509", "-req", "-days", "365", "-sha256", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                "-CAcreateserial", "-out", "server-cert.pem", "-extfile", "extfile.cnf");
        openssl(dir, "genrsa", "-out", "key.pem", "4096");
        openssl(dir, "req", "-subj", "/CN=client", "-new", "-key", "key.pem", "-out", "client.csr");
        Files.writeString(dir.resolve("extfile-client.cnf"), "extendedKeyUsage = clientAuth\n");
        openssl(dir, "x509", "-req", "-days", "365", "-sha256", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                "-CAcreateserial", "-out", "cert.pem", "-extfile", "extfile-client.cnf");
        Path socket = tmp.resolve("dg2.sock");
        try (TestDaemon d = TestDaemon.start(tlsFlags(dir.resolve("ca.pem"), dir.resolve("server-cert.pem"),
                     dir.resolve("server-key.pem"), null, socket), tmp)) {
            AuditTail access = d.audit();
            DockerCli.Result version = DockerCli.run(tmp.resolve("docker-config"),
                    DockerCli.tlsEnv("tcp://127.0.0.1:" + d.tcpPort(), dir), "version");
            assertThat(version.exitCode()).as(version.toString()).isZero();
            assertThat(version.stdout()).contains("Server: dockgate");
            assertThat(access.await("\"operation\":\"system.version\"")).contains("\"name\":\"client\"");
        }
    }

    private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("openssl " + String.join(" ", args) + ": " + out).isZero();
    }
}
