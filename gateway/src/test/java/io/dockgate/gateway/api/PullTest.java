package io.dockgate.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.CliSession;
import io.dockgate.gateway.testing.DockerCli;
import io.dockgate.gateway.testing.Registry;
import io.dockgate.gateway.testing.TokenServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker pull from Debian's docker-registry on 127.0.0.1: Docker schema 2 and OCI manifests, a manifest
 * list (linux/amd64 chosen), pull by digest, layers already present not fetched again, bearer-token
 * authentication with X-Registry-Auth, and a registry that serves a blob whose digest is wrong.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PullTest {
    @TempDir
    static Path tmp;
    private CliSession cli;
    private Path socket;
    private Registry registry;
    private Path archiveA;
    private Path archiveB;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void start() throws Exception {
        cli = CliSession.start(tmp);
        socket = cli.socket();
        Path busybox = TestImages.busyboxTar(tmp);
        ok(docker("import", "-c", "CMD [\"echo\",\"a\"]", busybox.toString(), "src:a"));
        ok(docker("import", "-c", "CMD [\"echo\",\"b\"]", busybox.toString(), "src:b"));
        archiveA = tmp.resolve("a.tar");
        archiveB = tmp.resolve("b.tar");
        ok(docker("save", "-o", archiveA.toString(), "src:a"));
        ok(docker("save", "-o", archiveB.toString(), "src:b"));
        ok(docker("rmi", "src:a", "src:b"));
        registry = Registry.start(tmp.resolve("registry"), null);
    }

    @AfterAll
    void stop() throws Exception {
        if (registry != null) {
            registry.close();
        }
        cli.close();
    }

    private DockerCli.Result docker(String... args) throws Exception {
        return cli.docker(args);
    }

    private static DockerCli.Result ok(DockerCli.Result r) {
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r;
    }

    private String imageId(String ref) throws Exception {
        return ok(docker("image", "inspect", "--format", "{{.Id}}", ref)).stdout().trim();
    }

    @Test
    void pullsSchema2AndOciAndSharesLayers() throws Exception {
        registry.push(archiveA, "app:v2s2", "v2s2");
        registry.push(archiveA, "app:oci", "oci");
        DockerCli.Result first = ok(docker("pull", registry.host() + "/app:v2s2"));
        assertThat(first.stdout()).contains("Pull complete", "Digest: sha256:", "Status: Downloaded newer image for " + registry.host() + "/app:v2s2");
        DockerCli.Result second = ok(docker("pull", registry.host() + "/app:oci"));
        assertThat(second.stdout()).as("the shared layer is not fetched again").contains("Already exists").doesNotContain("Pull complete");
        assertThat(ok(docker("pull", registry.host() + "/app:v2s2")).stdout()).contains("Status: Image is up to date");
        String digests = ok(docker("images", "--digests", "--format", "{{.Repository}}:{{.Tag}} {{.Digest}}")).stdout();
        assertThat(digests).contains(registry.host() + "/app:v2s2 sha256:");
        ok(docker("rmi", registry.host() + "/app:v2s2", registry.host() + "/app:oci"));
    }

    @Test
    void manifestListsResolveToLinuxAmd64AndDigestsPull() throws Exception {
        registry.push(archiveA, "multi:amd", "v2s2");
        registry.push(archiveB, "multi:arm", "v2s2");
        String[] amd = manifestDigestAndSize("multi", "amd");
        String[] arm = manifestDigestAndSize("multi", "arm");
        String list = """
                {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[
                 {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"%s","size":%s,"platform":{"architecture":"arm64","os":"linux"}},
                 {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"%s","size":%s,"platform":{"architecture":"amd64","os":"linux"}}]}
                """.formatted(arm[0], arm[1], amd[0], amd[1]);
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create("http://" + registry.host() + "/v2/multi/manifests/both"))
                .header("Content-Type", "application/vnd.docker.distribution.manifest.list.v2+json")
                .PUT(HttpRequest.BodyPublishers.ofString(list)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(201);

        ok(docker("pull", registry.host() + "/multi:both"));
        assertThat(ok(docker("inspect", "--format", "{{json .Config.Cmd}}", registry.host() + "/multi:both")).stdout().trim())
                .isEqualTo("[\"echo\",\"a\"]");
        ok(docker("pull", registry.host() + "/multi@" + arm[0]));
        assertThat(ok(docker("inspect", "--format", "{{json .Config.Cmd}}", registry.host() + "/multi@" + arm[0])).stdout().trim())
                .isEqualTo("[\"echo\",\"b\"]");
    }

    private String[] manifestDigestAndSize(String repo, String tag) throws Exception {
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create("http://" + registry.host() + "/v2/" + repo + "/manifests/" + tag))
                .header("Accept", "application/vnd.docker.distribution.manifest.v2+json").GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        return new String[] {r.headers().firstValue("Docker-Content-Digest").orElseThrow(), Integer.toString(r.body().length)};
    }

    @Test
    void aBlobWithTheWrongDigestIsRefusedAndLeavesNothing() throws Exception {
        try (Registry own = Registry.start(tmp.resolve("tampering"), null)) {
            wrongDigest(own);
        }
    }

    private void wrongDigest(Registry registry) throws Exception {
        registry.push(archiveB, "tampered:1", "v2s2");
        try (Stream<Path> blobs = Files.walk(registry.storage())) {
            for (Path data : blobs.filter(p -> p.getFileName().toString().equals("data") && sizeOf(p) > 100_000).toList()) {
                byte[] bytes = Files.readAllBytes(data);
                bytes[bytes.length / 2] ^= 0x55;
                Files.write(data, bytes);
            }
        }
        String before = ok(docker("images", "-a", "-q")).stdout();
        DockerCli.Result r = docker("pull", registry.host() + "/tampered:1");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr() + r.stdout()).contains("verification failed");
        assertThat(ok(docker("images", "-a", "-q")).stdout()).isEqualTo(before);
        DockerCli.Result missing = docker("pull", registry.host() + "/nothing:here");
        assertThat(missing.exitCode()).isNotZero();
        assertThat(missing.stderr() + missing.stdout()).contains("not found");
    }

    @Test
    void aPullThatCannotStartFailsWithAnErrorStatusNotInsideAStream() throws Exception {
        String unknownTag = io.dockgate.gateway.testing.RawHttp.unix(socket, "POST /v1.50/images/create?fromImage="
                + registry.host() + "/nothing&tag=here HTTP/1.1\r\nHost: docker\r\n\r\n");
        assertThat(io.dockgate.gateway.testing.RawHttp.status(unknownTag)).isEqualTo(404);
        assertThat(io.dockgate.gateway.testing.RawHttp.body(unknownTag)).startsWith("{\"message\":").contains("not found");
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort(); // nothing listens there once closed
        }
        String unreachable = io.dockgate.gateway.testing.RawHttp.unix(socket, "POST /v1.50/images/create?fromImage=127.0.0.1:"
                + closedPort + "/x&tag=1 HTTP/1.1\r\nHost: docker\r\n\r\n");
        assertThat(io.dockgate.gateway.testing.RawHttp.status(unreachable)).as(unreachable).isGreaterThanOrEqualTo(500);
        assertThat(io.dockgate.gateway.testing.RawHttp.body(unreachable)).contains("127.0.0.1:" + closedPort);
        DockerCli.Result cliPull = docker("pull", "127.0.0.1:" + closedPort + "/x:1");
        assertThat(cliPull.exitCode()).isNotZero();
        assertThat(cliPull.stderr()).startsWith("Error response from daemon:");
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    @Test
    void bearerTokenAuthenticationUsesTheCallersCredentials() throws Exception {
        try (TokenServer tokens = TokenServer.start(tmp.resolve("tokens"), "alice", "s3cret");
             Registry secured = Registry.start(tmp.resolve("secured"), tokens.registryAuth())) {
            secured.push(archiveB, "private/app:1", "v2s2", "--dest-creds", "alice:s3cret");
            Path anonymousConfig = tmp.resolve("anonymous-config");
            DockerCli.Result denied = DockerCli.run(anonymousConfig, DockerCli.unixEnv(socket), "pull", secured.host() + "/private/app:1");
            assertThat(denied.exitCode()).isNotZero();
            assertThat(denied.stderr() + denied.stdout()).contains("denied");

            Path loggedIn = tmp.resolve("logged-in-config");
            Files.createDirectories(loggedIn);
            Files.writeString(loggedIn.resolve("config.json"), "{\"auths\":{\"" + secured.host() + "\":{\"auth\":\""
                    + Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8)) + "\"}}}");
            DockerCli.Result pulled = DockerCli.run(loggedIn, DockerCli.unixEnv(socket), "pull", secured.host() + "/private/app:1");
            assertThat(pulled.exitCode()).as(pulled.toString()).isZero();
            assertThat(pulled.stdout()).contains("Status: Downloaded newer image");
        }
    }
}
