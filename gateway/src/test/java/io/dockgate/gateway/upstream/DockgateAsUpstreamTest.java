package io.dockgate.gateway.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.config.ConfigKey;
import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.CliSession;
import io.dockgate.gateway.testing.DockerCli;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Another dockgate as the upstream: a front dockgate (mutual TLS, upstream mode) in front of an embedded
 * one on its Unix socket. The front's owner label is not the back's (which the back refuses from its
 * clients and keeps for its own record): the docker CLI works through both, with exit codes, stdin, exec,
 * logs, cp, a classic build and the API version the two agree on.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DockgateAsUpstreamTest {
    @TempDir
    static Path tmp;
    private CliSession back;
    private CliSession front;

    @BeforeAll
    void start() throws Exception {
        back = CliSession.start(Files.createDirectories(tmp.resolve("back")));
        back.ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox:latest");
        front = CliSession.startWithTls(Files.createDirectories(tmp.resolve("front")),
                Map.of(ConfigKey.UPSTREAM, "unix://" + back.socket())).overTls();
    }

    @AfterAll
    void stop() throws Exception {
        if (front != null) {
            front.close();
        }
        if (back != null) {
            back.removeAllContainers();
            back.close();
        }
    }

    @Test
    void theCliWorksThroughTwoDockgates() throws Exception {
        assertThat(front.ok("version", "-f", "{{.Server.APIVersion}}").stdout().trim()).isEqualTo("1.50");
        DockerCli.Result exited = front.docker("run", "--rm", "busybox", "sh", "-c", "echo out; exit 5");
        assertThat(exited.exitCode()).as(exited.toString()).isEqualTo(5);
        assertThat(exited.stdout()).isEqualTo("out\n");
        assertThat(front.dockerWithInput("in\n".getBytes(StandardCharsets.UTF_8), "run", "-i", "--rm", "busybox", "cat").stdout())
                .isEqualTo("in\n");
        String id = front.ok("run", "-d", "busybox", "sh", "-c", "echo logged; sleep 300").stdout().trim();
        assertThat(front.docker("exec", id, "sh", "-c", "exit 6").exitCode()).isEqualTo(6);
        Path file = Files.writeString(tmp.resolve("f.txt"), "through two\n");
        front.ok("cp", file.toString(), id + ":/f.txt");
        assertThat(front.ok("exec", id, "cat", "/f.txt").stdout()).isEqualTo("through two\n");
        assertThat(front.ok("logs", id).stdout()).isEqualTo("logged\n");
        assertThat(front.ok("inspect", "-f", "{{json .Config.Labels}}", id).stdout().trim()).isEqualTo("{}");
        assertThat(back.ok("inspect", "-f", "{{index .Config.Labels \"io.dockgate.upstream.owner\"}}", id).stdout().trim())
                .as("the front's record of the owner, a label like any other to the back").isEqualTo("tls:tester");
        assertThat(front.ok("ps", "-q", "--filter", "owner=tls:tester").stdout().trim()).isEqualTo(id.substring(0, 12));
        front.ok("rm", "-f", id);

        Path ctx = Files.createDirectories(tmp.resolve("ctx"));
        Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox\nRUN echo built > /b\nCMD [\"cat\", \"/b\"]\n");
        DockerCli.Result built = front.dockerWith(Map.of("DOCKER_BUILDKIT", "0"), "build", "-q", "-t", "twice:1", ctx.toString());
        assertThat(built.exitCode()).as(built.toString()).isZero();
        assertThat(front.ok("run", "--rm", "twice:1").stdout()).isEqualTo("built\n");
        assertThat(back.ok("images", "--format", "{{.Repository}}:{{.Tag}}").stdout()).contains("twice:1");
    }
}
