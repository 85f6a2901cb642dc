package io.dockgate.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.CliSession;
import io.dockgate.gateway.testing.DockerCli;
import io.dockgate.gateway.testing.Dockerd;
import io.dockgate.gateway.testing.RawHttp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image routes through the real docker CLI: import of a busybox rootfs, images, inspect, history,
 * tag, rmi, save and load round trips (also with dockerd 20.10 in both directions), and errors.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImagesCliTest {
    @TempDir
    static Path tmp;
    private CliSession cli;
    private Path socket;
    private Path busybox;
    private final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    void start() throws Exception {
        cli = CliSession.start(tmp);
        socket = cli.socket();
        busybox = TestImages.busyboxTar(tmp);
    }

    @AfterAll
    void stop() throws Exception {
        cli.close();
    }

    private DockerCli.Result docker(String... args) throws Exception {
        return cli.docker(args);
    }

    private DockerCli.Result ok(String... args) throws Exception {
        return cli.ok(args);
    }

    @Test
    void importInspectHistoryTagAndRemove() throws Exception {
        String id = ok("import", "-m", "from the test", "-c", "CMD [\"sh\"]", "-c", "ENV GREETING=\"hello world\"",
                "-c", "WORKDIR /tmp", "-c", "LABEL team=core", busybox.toString(), "test/bb:1").stdout().trim();
        assertThat(id).startsWith("sha256:");
        assertThat(ok("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout()).contains("test/bb:1 " + id.substring(7, 19));

        JsonNode inspect = json.readTree(ok("image", "inspect", "test/bb:1").stdout()).get(0);
        assertThat(inspect.path("Id").asText()).isEqualTo(id);
        assertThat(inspect.path("Comment").asText()).isEqualTo("from the test");
        assertThat(inspect.path("Config").path("Cmd").get(0).asText()).isEqualTo("sh");
        assertThat(inspect.path("Config").path("Env").get(0).asText()).isEqualTo("GREETING=hello world");
        assertThat(inspect.path("Config").path("WorkingDir").asText()).isEqualTo("/tmp");
        assertThat(inspect.path("Config").path("Labels").path("team").asText()).isEqualTo("core");
        assertThat(inspect.path("RootFS").path("Layers").get(0).asText()).isEqualTo(
                io.dockgate.engine.image.Digest.of(Files.readAllBytes(busybox)).toString());

        assertThat(ok("history", "test/bb:1").stdout()).contains("from the test");
        ok("tag", "test/bb:1", "other:latest");
        assertThat(ok("images", "--filter", "reference=other", "--format", "{{.Repository}}:{{.Tag}}").stdout().trim()).isEqualTo("other:latest");
        assertThat(ok("images", "--filter", "label=team=core", "-q").stdout().lines().distinct()).containsExactly(id.substring(7, 19));
        assertThat(ok("images", "--filter", "label=team=other", "-q").stdout()).isBlank();

        // docker-java escapes '/' in path parameters as %2F
        String viaEscaped = RawHttp.unixGet(socket, "/v1.32/images/test%2Fbb:1/json");
        assertThat(RawHttp.status(viaEscaped)).isEqualTo(200);

        DockerCli.Result conflict = docker("rmi", id.substring(7, 19));
        assertThat(conflict.exitCode()).isNotZero();
        assertThat(conflict.stderr()).contains("must be forced", "referenced in multiple repositories");
        assertThat(ok("rmi", "other").stdout()).contains("Untagged: other:latest");
        assertThat(ok("rmi", "test/bb:1").stdout()).contains("Untagged: test/bb:1", "Deleted: " + id);
        DockerCli.Result missing = docker("image", "inspect", "test/bb:1");
        assertThat(missing.exitCode()).isNotZero();
        assertThat(missing.stderr()).contains("No such image: test/bb:1");
    }

    @Test
    void saveAndLoadRoundTripThroughTheCli() throws Exception {
        String id = ok("import", busybox.toString(), "roundtrip:1").stdout().trim();
        Path archive = tmp.resolve("roundtrip.tar");
        ok("save", "-o", archive.toString(), "roundtrip:1");
        ok("rmi", "roundtrip:1");
        assertThat(ok("load", "-i", archive.toString()).stdout()).contains("Loaded image: roundtrip:1");
        assertThat(ok("images", "-q", "--no-trunc", "roundtrip:1").stdout().trim()).isEqualTo(id);
        ok("rmi", "roundtrip:1");
    }

    @Test
    void loadErrorsReachTheCli() throws Exception {
        Path bad = tmp.resolve("bad.tar");
        Files.write(bad, "not an archive".repeat(100).getBytes());
        DockerCli.Result r = docker("load", "-i", bad.toString());
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr() + r.stdout()).contains("invalid archive");
        DockerCli.Result pull = docker("pull", "example.invalid/nothing:1");
        assertThat(pull.exitCode()).isNotZero();
    }

    @Test
    void archivesMoveBetweenDockerd2010AndDockgateBothWays() throws Exception {
        try (Dockerd dockerd = Dockerd.start(tmp.resolve("dockerd"))) {
            Map<String, String> env = DockerCli.unixEnv(dockerd.socket());
            Path config = tmp.resolve("docker-config");
            DockerCli.Result imported = DockerCli.run(config, env, "import", "-c", "CMD [\"sh\"]", busybox.toString(), "from-dockerd:20");
            assertThat(imported.exitCode()).as(imported.toString()).isZero();
            String dockerdId = imported.stdout().trim();
            Path fromDockerd = tmp.resolve("from-dockerd.tar");
            assertThat(DockerCli.run(config, env, "save", "-o", fromDockerd.toString(), "from-dockerd:20").exitCode()).isZero();

            assertThat(ok("load", "-i", fromDockerd.toString()).stdout()).contains("Loaded image: from-dockerd:20");
            assertThat(ok("images", "-q", "--no-trunc", "from-dockerd:20").stdout().trim()).isEqualTo(dockerdId);

            String ours = ok("import", "-c", "CMD [\"sh\"]", busybox.toString(), "from-dockgate:1").stdout().trim();
            Path fromDockgate = tmp.resolve("from-dockgate.tar");
            ok("save", "-o", fromDockgate.toString(), "from-dockgate:1");
            DockerCli.Result loaded = DockerCli.run(config, env, "load", "-i", fromDockgate.toString());
            assertThat(loaded.exitCode()).as(loaded.toString()).isZero();
            assertThat(loaded.stdout()).contains("Loaded image: from-dockgate:1");
            DockerCli.Result inDockerd = DockerCli.run(config, env, "images", "-q", "--no-trunc", "from-dockgate:1");
            assertThat(inDockerd.stdout().trim()).isEqualTo(ours);
        }
    }
}
