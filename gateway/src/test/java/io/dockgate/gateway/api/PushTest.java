package io.dockgate.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.CliSession;
import io.dockgate.gateway.testing.DockerCli;
import io.dockgate.gateway.testing.LogCapture;
import io.dockgate.gateway.testing.RawHttp;
import io.dockgate.gateway.testing.Registry;
import io.dockgate.gateway.testing.TokenServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker push and docker login through dockgate to Debian's docker-registry (2.8), checked with skopeo:
 * a loaded, a built and a pulled (OCI) image; a second repository (Mounted from); a repeated push (Layer
 * already exists); every tag (-a); rmi and pull back with the same digests; a push cut off midway that
 * uploads only what was missing when retried; login good and bad against htpasswd and a token server
 * (whose identity token the CLI keeps and a push uses); /distribution and search; credentials in no log,
 * audit record, state file or error.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PushTest {
    private static final Map<String, String> LEGACY = Map.of("DOCKER_BUILDKIT", "0");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    private CliSession cli;
    private Registry registry;
    private String host;

    @BeforeAll
    void start() throws Exception {
        cli = CliSession.start(tmp);
        cli.ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox:latest");
        registry = Registry.start(tmp.resolve("registry"), null);
        host = registry.host();
    }

    @AfterAll
    void stop() throws Exception {
        try {
            if (registry != null) {
                registry.close();
            }
        } finally {
            cli.close();
        }
    }

    private static JsonNode skopeo(String... args) throws Exception {
        return Registry.inspect(args);
    }

    private static String digestOf(String pushOutput, String tag) {
        for (String line : pushOutput.split("\n")) {
            if (line.startsWith(tag + ": digest: ")) {
                return line.split(" ")[2];
            }
        }
        throw new AssertionError("no digest line for " + tag + " in\n" + pushOutput);
    }

    @Test
    void aLoadedImageIsPushedSkippedWhenThereMountedIntoASecondRepositoryAndPulledBackAlike() throws Exception {
        try (Registry fresh = Registry.start(tmp.resolve("fresh-registry"), null)) { // nothing of the other tests in it
            loadedImage(fresh.host());
        }
    }

    private void loadedImage(String host) throws Exception {
        cli.ok("tag", "busybox", host + "/app:1");
        DockerCli.Result first = cli.ok("push", host + "/app:1");
        assertThat(first.stdout()).contains("The push refers to repository [" + host + "/app]", "Preparing", "Pushed");
        String digest = digestOf(first.stdout(), "1");
        JsonNode remote = skopeo("docker://" + host + "/app:1");
        assertThat(remote.path("Digest").asText()).isEqualTo(digest);
        assertThat(remote.path("Layers")).hasSize(1);
        String raw = skopeo("--raw", "docker://" + host + "/app:1").path("mediaType").asText();
        assertThat(raw).isEqualTo("application/vnd.docker.distribution.manifest.v2+json");
        assertThat(cli.ok("image", "inspect", "-f", "{{json .RepoDigests}}", host + "/app:1").stdout()).contains(host + "/app@" + digest);

        DockerCli.Result again = cli.ok("push", host + "/app:1");
        assertThat(again.stdout()).contains("Layer already exists").doesNotContain("Pushed");
        assertThat(digestOf(again.stdout(), "1")).isEqualTo(digest);

        cli.ok("tag", "busybox", host + "/second:1");
        DockerCli.Result mounted = cli.ok("push", host + "/second:1");
        assertThat(mounted.stdout()).contains("Mounted from app").doesNotContain("Pushed");
        assertThat(digestOf(mounted.stdout(), "1")).isEqualTo(digest);

        cli.ok("rmi", host + "/app:1", host + "/second:1");
        String id = cli.ok("image", "inspect", "-f", "{{.Id}}", "busybox").stdout().trim();
        cli.ok("rmi", "busybox");
        DockerCli.Result pulled = cli.ok("pull", host + "/app:1");
        assertThat(pulled.stdout()).contains("Digest: " + digest);
        assertThat(cli.ok("image", "inspect", "-f", "{{.Id}}", host + "/app:1").stdout().trim()).isEqualTo(id);
        assertThat(cli.ok("run", "--rm", "--network", "none", host + "/app:1", "echo", "round trip").stdout()).isEqualTo("round trip\n");
        cli.ok("tag", host + "/app:1", "busybox:latest");
    }

    @Test
    void aBuiltImageIsPushedWithEveryLayerAndEveryTagWithAllTags() throws Exception {
        Path ctx = Files.createDirectories(tmp.resolve("built-ctx"));
        Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox\nRUN echo built > /built.txt\nCMD [\"cat\", \"/built.txt\"]\n");
        cli.ok("tag", "busybox", host + "/tagged:a");
        DockerCli.Result built = cli.dockerWith(LEGACY, "build", "-q", "-t", host + "/tagged:b", ctx.toString());
        assertThat(built.exitCode()).as(built.toString()).isZero();
        DockerCli.Result pushed = cli.ok("push", "--all-tags", host + "/tagged");
        String a = digestOf(pushed.stdout(), "a");
        String b = digestOf(pushed.stdout(), "b");
        assertThat(a).isNotEqualTo(b);
        assertThat(skopeo("docker://" + host + "/tagged:b").path("Layers")).hasSize(2);
        assertThat(skopeo("docker://" + host + "/tagged:a").path("Digest").asText()).isEqualTo(a);

        DockerCli.Result missing = cli.docker("push", host + "/nothing:1");
        assertThat(missing.exitCode()).isNotZero();
        assertThat(missing.stderr()).contains("An image does not exist locally with the tag: " + host + "/nothing");
    }

    @Test
    void aPulledOciImageKeepsItsMediaTypeAndItsBlobs() throws Exception {
        Path archive = tmp.resolve("oci-src.tar");
        cli.ok("save", "-o", archive.toString(), "busybox");
        registry.push(archive, "ocisrc:1", "oci");
        cli.ok("pull", host + "/ocisrc:1");
        cli.ok("tag", host + "/ocisrc:1", host + "/ocicopy:1");
        DockerCli.Result pushed = cli.ok("push", host + "/ocicopy:1");
        assertThat(pushed.stdout()).contains("Mounted from ocisrc");
        JsonNode manifest = skopeo("--raw", "docker://" + host + "/ocicopy:1");
        assertThat(manifest.path("mediaType").asText()).isEqualTo("application/vnd.oci.image.manifest.v1+json");
        assertThat(manifest.path("layers").get(0).path("digest").asText())
                .isEqualTo(skopeo("--raw", "docker://" + host + "/ocisrc:1").path("layers").get(0).path("digest").asText());
    }

    @Test
    void aPushCutOffMidwaySendsOnlyWhatIsMissingWhenRetried() throws Exception {
        Path ctx = Files.createDirectories(tmp.resolve("big-ctx"));
        Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox\n"
                + "RUN dd if=/dev/urandom of=/one bs=1M count=16 2>/dev/null\n"
                + "RUN dd if=/dev/urandom of=/two bs=1M count=16 2>/dev/null\n"
                + "RUN dd if=/dev/urandom of=/three bs=1M count=16 2>/dev/null\n");
        String ref = host + "/cut:1";
        assertThat(cli.dockerWith(LEGACY, "build", "-q", "-t", ref, ctx.toString()).exitCode()).isZero();
        Process push = cli.dockerBackgroundReading("push", ref);
        String firstPushed = null;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(push.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                if (line.endsWith(": Pushed")) {
                    firstPushed = line.substring(0, line.indexOf(':'));
                    break;
                }
            }
        } finally {
            push.destroyForcibly();
            push.waitFor(10, TimeUnit.SECONDS);
        }
        assertThat(firstPushed).as("a layer was pushed before the cut").isNotNull();
        Thread.sleep(1500); // the daemon notices the client is gone at its next check and stops
        DockerCli.Result retried = cli.ok("push", ref);
        assertThat(retried.stdout()).contains(firstPushed + ": Layer already exists").contains(": Pushed");
        assertThat(skopeo("docker://" + host + "/cut:1").path("Layers")).hasSize(4);
    }

    @Test
    void loginAgainstAPasswordRegistryThenPushWithTheStoredCredentialsAndNoSecretAnywhere() throws Exception {
        String secret = "pw-" + Long.toHexString(System.nanoTime()) + "-never-logged";
        try (LogCapture log = LogCapture.everything("io.dockgate");
             Registry secured = Registry.startWithPassword(tmp.resolve("htpasswd-registry"), "alice", secret)) {
            Path config = Files.createDirectories(tmp.resolve("login-config"));
            DockerCli.Result bad = DockerCli.run(config, cli.env(), "login", "-u", "alice", "-p", secret + "-wrong", secured.host());
            assertThat(bad.exitCode()).isNotZero();
            assertThat(bad.stderr()).contains("Error response from daemon: login attempt to http://" + secured.host()
                    + "/v2/ failed with status: 401 Unauthorized");
            DockerCli.Result good = DockerCli.run(config, cli.env(), secret.getBytes(StandardCharsets.UTF_8), "login", "-u", "alice", "--password-stdin",
                    secured.host());
            assertThat(good.exitCode()).as(good.toString()).isZero();
            assertThat(good.stdout()).contains("Login Succeeded");

            cli.ok("tag", "busybox", secured.host() + "/private/app:1");
            DockerCli.Result anonymous = cli.docker("push", secured.host() + "/private/app:1");
            assertThat(anonymous.exitCode()).isNotZero();
            assertThat(anonymous.stderr() + anonymous.stdout()).contains("no basic auth credentials");
            DockerCli.Result pushed = DockerCli.run(config, cli.env(), "push", secured.host() + "/private/app:1");
            assertThat(pushed.exitCode()).as(pushed.toString()).isZero();
            // a failed push with the credentials: the error names no secret either
            DockerCli.Result gone = DockerCli.run(config, cli.env(), "push", "127.0.0.1:1/private/app:1");
            assertThat(gone.exitCode()).isNotZero();
            assertThat(gone.stderr() + gone.stdout()).doesNotContain(secret);

            assertThat(log.messages()).noneMatch(m -> m != null && m.contains(secret));
            assertThat(String.join("\n", bad.stdout(), bad.stderr(), pushed.stdout(), pushed.stderr())).doesNotContain(secret);
            try (Stream<Path> files = Files.walk(tmp.resolve("data"))) {
                for (Path f : files.filter(Files::isRegularFile).filter(f -> !f.toString().contains("/layers/")).toList()) {
                    assertThat(Files.readString(f, StandardCharsets.ISO_8859_1)).as(f.toString()).doesNotContain(secret);
                }
            }
        }
    }

    @Test
    void loginThroughATokenServerReturnsAnIdentityTokenThatLaterPushesUse() throws Exception {
        try (TokenServer tokens = TokenServer.start(tmp.resolve("tokens"), "bob", "bobs-secret");
             Registry secured = Registry.start(tmp.resolve("token-registry"), tokens.registryAuth())) {
            Path config = Files.createDirectories(tmp.resolve("token-config"));
            DockerCli.Result bad = DockerCli.run(config, cli.env(), "login", "-u", "bob", "-p", "wrong", secured.host());
            assertThat(bad.exitCode()).isNotZero();
            assertThat(bad.stderr()).contains("unauthorized");
            DockerCli.Result good = DockerCli.run(config, cli.env(), "login", "-u", "bob", "-p", "bobs-secret", secured.host());
            assertThat(good.exitCode()).as(good.toString()).isZero();
            JsonNode stored = JSON.readTree(config.resolve("config.json").toFile()).path("auths").path(secured.host());
            assertThat(stored.path("identitytoken").asText()).as("the CLI keeps the identity token, not the password").startsWith("rt-");

            cli.ok("tag", "busybox", secured.host() + "/team/app:1");
            DockerCli.Result pushed = DockerCli.run(config, cli.env(), "push", secured.host() + "/team/app:1");
            assertThat(pushed.exitCode()).as(pushed.toString()).isZero();
            assertThat(tokens.requests()).anyMatch(r -> r.startsWith("POST")); // the identity token, exchanged
            assertThat(skopeo("--creds", "bob:bobs-secret", "docker://" + secured.host() + "/team/app:1").path("Digest").asText())
                    .isEqualTo(digestOf(pushed.stdout(), "1"));
        }
    }

    @Test
    void distributionDescribesARemoteManifestAndSearchSaysWhyItCannot() throws Exception {
        cli.ok("tag", "busybox", host + "/described:1");
        String digest = digestOf(cli.ok("push", host + "/described:1").stdout(), "1");
        String answer = RawHttp.unixGet(cli.socket(), "/v1.45/distribution/" + host + "/described:1/json");
        assertThat(RawHttp.status(answer)).as(answer).isEqualTo(200);
        JsonNode d = JSON.readTree(RawHttp.body(answer));
        assertThat(d.path("Descriptor").path("digest").asText()).isEqualTo(digest);
        assertThat(d.path("Descriptor").path("mediaType").asText()).isEqualTo("application/vnd.docker.distribution.manifest.v2+json");
        assertThat(d.path("Platforms").get(0).path("architecture").asText()).isEqualTo("amd64");
        assertThat(d.path("Platforms").get(0).path("os").asText()).isEqualTo("linux");
        String unknown = RawHttp.unixGet(cli.socket(), "/v1.45/distribution/" + host + "/described:nope/json");
        assertThat(RawHttp.status(unknown)).isEqualTo(404);

        DockerCli.Result search = cli.docker("search", host + "/described");
        assertThat(search.exitCode()).isNotZero();
        assertThat(search.stderr()).contains("searching registry " + host + " failed: unexpected status code 404");
        DockerCli.Result unreachable = cli.docker("search", "127.0.0.1:1/anything");
        assertThat(unreachable.exitCode()).isNotZero();
        assertThat(unreachable.stderr()).contains("cannot reach registry 127.0.0.1:1");
    }
}
