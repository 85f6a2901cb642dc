package io.dockgate.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.certs.CertificateSpec;
import io.dockgate.certs.IssuedCertificate;
import io.dockgate.certs.Pem;
import io.dockgate.certs.testing.TestPki;
import io.dockgate.config.ConfigKey;
import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.CliSession;
import io.dockgate.gateway.testing.DockerCli;
import io.dockgate.gateway.testing.FlakyProxy;
import io.dockgate.gateway.testing.Registry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry settings, as dockerd's keys: {@code registry-mirrors} (Docker Hub pulls through a mirror,
 * one that is down passed over), {@code max-download-attempts} (a 503 and a blob cut off midway retried;
 * a pull that fails midway leaves its verified blobs, and the retry fetches only what was missing),
 * {@code registry-certs-dir} (a registry's CA and client certificate, read at each use) and
 * {@code insecure-registries} (TLS without verification, or plain HTTP). The TLS registries listen on
 * addresses of a bridge without ports this test makes (172.31.218.1 and .2) and removes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RegistrySettingsTest {
    private static final String LINK = "dgtreg0";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    private CliSession cli;
    private Registry registry;
    private FlakyProxy proxy;
    private Path archive;
    private Path multiArchive;
    private Path certsDir;

    @BeforeAll
    void start() throws Exception {
        sh("ip", "link", "del", LINK);
        run("ip", "link", "add", LINK, "type", "bridge"); // no dummy module in these kernels; a bridge without ports serves alike
        run("ip", "addr", "add", "172.31.218.1/32", "dev", LINK);
        run("ip", "addr", "add", "172.31.218.2/32", "dev", LINK);
        run("ip", "link", "set", LINK, "up");
        registry = Registry.start(tmp.resolve("registry"), null);
        proxy = FlakyProxy.start(registry.host());
        certsDir = Files.createDirectories(tmp.resolve("certs.d"));
        cli = CliSession.start(tmp, tmp.resolve("dg.sock"), Map.of(
                ConfigKey.REGISTRY_MIRRORS, List.of("http://127.0.0.1:1", "http://" + proxy.host()),
                ConfigKey.INSECURE_REGISTRIES, List.of("172.31.218.2"),
                ConfigKey.REGISTRY_CERTS_DIR, certsDir.toString()));
        cli.ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox:latest");
        archive = tmp.resolve("busybox.tar");
        cli.ok("save", "-o", archive.toString(), "busybox");
        Path ctx = Files.createDirectories(tmp.resolve("multi"));
        Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox\nRUN head -c 300000 /dev/urandom > /one\n"
                + "RUN head -c 300000 /dev/urandom > /two\n");
        DockerCli.Result built = cli.dockerWith(Map.of("DOCKER_BUILDKIT", "0"), "build", "-q", "-t", "multi:1", ctx.toString());
        assertThat(built.exitCode()).as(built.toString()).isZero();
        multiArchive = tmp.resolve("multi.tar");
        cli.ok("save", "-o", multiArchive.toString(), "multi:1");
        cli.ok("rmi", "multi:1", "busybox");
    }

    @AfterAll
    void stop() throws Exception {
        try {
            if (cli != null) {
                cli.close();
            }
            if (proxy != null) {
                proxy.close();
            }
            if (registry != null) {
                registry.close();
            }
        } finally {
            sh("ip", "link", "del", LINK);
        }
    }

    @Test
    void dockerHubPullsGoThroughTheFirstMirrorThatAnswers() throws Exception {
        registry.push(archive, "library/busybox:latest", "v2s2");
        DockerCli.Result pulled = cli.ok("pull", "busybox");
        assertThat(pulled.stdout()).contains("Status: Downloaded newer image for busybox:latest");
        assertThat(proxy.gets("/v2/library/busybox/manifests/latest")).isPositive();
        assertThat(cli.ok("run", "--rm", "--network", "none", "busybox", "echo", "mirrored").stdout()).isEqualTo("mirrored\n");
    }

    @Test
    void failedRequestsAreRetriedAndAPullThatBrokeOffFetchesOnlyWhatWasMissing() throws Exception {
        registry.push(multiArchive, "multi:1", "v2s2");
        JsonNode manifest = skopeo("--raw", "docker://" + registry.host() + "/multi:1");
        String two = manifest.path("layers").get(1).path("digest").asText();
        String three = manifest.path("layers").get(2).path("digest").asText();
        String ref = proxy.host() + "/multi:1";

        proxy.fail("/blobs/" + two, 1, FlakyProxy.Failure.UNAVAILABLE);
        proxy.fail("/blobs/" + three, 1, FlakyProxy.Failure.CUT_OFF);
        cli.ok("pull", ref);
        assertThat(proxy.gets("/blobs/" + two)).as("a 503, then the blob").isEqualTo(2);
        assertThat(proxy.gets("/blobs/" + three)).as("cut off, then whole").isEqualTo(2);
        cli.ok("rmi", ref);

        proxy.fail("/blobs/" + three, 100, FlakyProxy.Failure.CUT_OFF);
        DockerCli.Result broken = cli.docker("pull", ref);
        assertThat(broken.exitCode()).isNotZero();
        assertThat(proxy.gets("/blobs/" + three)).as("5 attempts, the default").isEqualTo(2 + 5);
        assertThat(cli.docker("image", "inspect", ref).exitCode()).as("nothing of the failed pull").isNotZero();
        proxy.heal();
        int twoBefore = proxy.gets("/blobs/" + two);
        cli.ok("pull", ref);
        assertThat(proxy.gets("/blobs/" + two)).as("verified before the break: not fetched again").isEqualTo(twoBefore);
        assertThat(proxy.gets("/blobs/" + three)).isEqualTo(2 + 5 + 1);
        assertThat(cli.ok("run", "--rm", "--network", "none", ref, "sh", "-c", "wc -c < /two").stdout().trim()).isEqualTo("300000");
    }

    @Test
    void aRegistrysCaAndClientCertificateComeFromTheCertsDirectoryAndInsecureOnesNeedNone() throws Exception {
        TestPki pki = TestPki.create();
        IssuedCertificate server = pki.issue(CertificateSpec.builder().commonName("registry").ipAddress("172.31.218.1").serverAuth());
        Path serverDir = Files.createDirectories(tmp.resolve("tls-files"));
        Files.writeString(serverDir.resolve("server.pem"), server.certificatePem());
        Files.writeString(serverDir.resolve("server.key"), server.privateKeyPem());
        Files.writeString(serverDir.resolve("ca.pem"), Pem.encode(pki.ca().certificate()));
        Registry.Tls tls = new Registry.Tls(serverDir.resolve("server.pem"), serverDir.resolve("server.key"), null);
        Registry.Tls mutual = new Registry.Tls(serverDir.resolve("server.pem"), serverDir.resolve("server.key"), serverDir.resolve("ca.pem"));
        try (Registry verified = Registry.startOn(tmp.resolve("tls-registry"), "172.31.218.1", tls);
             Registry clientAuth = Registry.startOn(tmp.resolve("mtls-registry"), "172.31.218.1", mutual);
             Registry insecureTls = Registry.startOn(tmp.resolve("insecure-tls"), "172.31.218.2", tls);
             Registry insecurePlain = Registry.startOn(tmp.resolve("insecure-plain"), "172.31.218.2", null)) {
            for (Registry r : List.of(verified, insecureTls, insecurePlain)) {
                r.push(archive, "app:1", "v2s2");
            }
            DockerCli.Result unknownCa = cli.docker("pull", verified.host() + "/app:1");
            assertThat(unknownCa.exitCode()).isNotZero();
            assertThat(unknownCa.stderr()).contains("cannot reach registry " + verified.host() + " (https)");

            Path own = Files.createDirectories(certsDir.resolve(verified.host()));
            Files.writeString(own.resolve("ca.crt"), Pem.encode(pki.ca().certificate()));
            cli.ok("pull", verified.host() + "/app:1"); // the directory is read at each use: no restart

            Path mtls = Files.createDirectories(certsDir.resolve(clientAuth.host()));
            Files.writeString(mtls.resolve("ca.crt"), Pem.encode(pki.ca().certificate()));
            cli.ok("tag", verified.host() + "/app:1", clientAuth.host() + "/app:1");
            DockerCli.Result noClientCert = cli.docker("push", clientAuth.host() + "/app:1");
            assertThat(noClientCert.exitCode()).isNotZero();
            IssuedCertificate client = pki.client("dockgate");
            Files.writeString(mtls.resolve("client.cert"), client.certificatePem());
            Files.writeString(mtls.resolve("client.key"), client.privateKeyPem());
            DockerCli.Result pushed = cli.docker("push", clientAuth.host() + "/app:1");
            assertThat(pushed.exitCode()).as(pushed.toString()).isZero();

            cli.ok("pull", insecureTls.host() + "/app:1"); // listed: TLS without verification
            cli.ok("pull", insecurePlain.host() + "/app:1"); // listed: plain HTTP once HTTPS fails
        }
    }

    private static JsonNode skopeo(String... args) throws Exception {
        return Registry.inspect(args);
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0).as(String.join(" ", command) + ": " + out).isTrue();
    }

    private static void sh(String... command) throws Exception {
        new ProcessBuilder(command).redirectErrorStream(true).start().waitFor(30, TimeUnit.SECONDS);
    }
}
