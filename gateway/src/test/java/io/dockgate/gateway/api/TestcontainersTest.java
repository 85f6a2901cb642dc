package io.dockgate.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.CliSession;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;

/** A Testcontainers GenericContainer against dockgate, with an image loaded beforehand (the reaper is disabled in the pom). */
class TestcontainersTest {
    @TempDir
    Path tmp;

    @Test
    void genericContainerStartsWaitsForItsLogExecsAndStops() throws Exception {
        String host = System.getenv("DOCKER_HOST");
        assertThat(host).as("the pom sets DOCKER_HOST for Testcontainers").startsWith("unix://");
        try (CliSession cli = CliSession.start(tmp, Path.of(host.substring("unix://".length())))) {
            cli.ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox:latest");
            try (GenericContainer<?> c = new GenericContainer<>("busybox:latest")
                    .withCommand("sh", "-c", "echo ready; while true; do sleep 1; done")
                    .withEnv("GREETING", "hello")
                    .waitingFor(Wait.forLogMessage("ready\\n", 1).withStartupTimeout(Duration.ofSeconds(60)))) {
                c.start();
                assertThat(c.isRunning()).isTrue();
                assertThat(c.getLogs()).contains("ready");
                Container.ExecResult r = c.execInContainer("sh", "-c", "echo $GREETING; exit 2");
                assertThat(r.getStdout()).isEqualTo("hello\n");
                assertThat(r.getExitCode()).isEqualTo(2);
                assertThat(DockerClientFactory.instance().client().inspectContainerCmd(c.getContainerId()).exec().getState().getRunning())
                        .isTrue();
            }
            assertThat(cli.ok("ps", "-aq").stdout().trim()).as("stopped and removed by Testcontainers").isEmpty();
        }
    }
}
