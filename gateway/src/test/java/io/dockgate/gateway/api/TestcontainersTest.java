package io.dockgate.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.config.ConfigKey;
import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.CliSession;
import io.dockgate.gateway.testing.TestNetworking;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;

/**
 * Testcontainers against dockgate, with an image loaded beforehand (the reaper is disabled in the pom):
 * a GenericContainer that waits for its log and execs; one with an exposed port, its mapped port and the
 * default wait strategy, reached through the bridge network's gateway that Testcontainers asks for (no
 * TESTCONTAINERS_HOST_OVERRIDE); two containers on Network.newNetwork() talking by alias.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TestcontainersTest {
    private static final String BRIDGE = "dgtc0";

    @TempDir
    static Path tmp;
    CliSession cli;

    @BeforeAll
    void start() throws Exception {
        String host = System.getenv("DOCKER_HOST");
        assertThat(host).as("the pom sets DOCKER_HOST for Testcontainers").startsWith("unix://");
        Map<ConfigKey, Object> flags = new HashMap<>(TestNetworking.flags(BRIDGE, "172.31.214.1/24"));
        cli = CliSession.start(tmp, Path.of(host.substring("unix://".length())), flags);
        cli.ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox:latest");
    }

    /** The default bridge's gateway address, where Testcontainers reaches mapped ports. */
    String bridgeGateway() {
        return "172.31.214.1";
    }

    @AfterAll
    void stop() throws Exception {
        TestNetworking.removeNetworksAndClose(cli, BRIDGE);
    }

    @Test
    void genericContainerStartsWaitsForItsLogExecsAndStops() throws Exception {
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

    @Test
    void anImageFromADockerfileRunsWithItsHealthCheck() throws Exception {
        org.testcontainers.images.builder.ImageFromDockerfile image = new org.testcontainers.images.builder.ImageFromDockerfile(
                "tc-built:latest", false)
                .withFileFromString("greeting.txt", "hello from a Dockerfile\n")
                .withDockerfileFromBuilder(b -> b.from("busybox:latest").copy("greeting.txt", "/greeting.txt")
                        .run("touch /ready").cmd("sh", "-c", "cat /greeting.txt; sleep 300").build());
        try (GenericContainer<?> c = new GenericContainer<>(image)
                .withCreateContainerCmdModifier(cmd -> cmd.withHealthcheck(new com.github.dockerjava.api.model.HealthCheck()
                        .withTest(List.of("CMD", "test", "-f", "/ready")).withInterval(300_000_000L)))
                .waitingFor(Wait.forHealthcheck().withStartupTimeout(Duration.ofSeconds(60)))) {
            c.start();
            assertThat(c.getLogs()).contains("hello from a Dockerfile");
        }
    }

    @Test
    void aContainerIsWaitedForUntilItsHealthCheckPasses() throws Exception {
        try (GenericContainer<?> c = new GenericContainer<>("busybox:latest")
                .withCommand("sh", "-c", "sleep 2; touch /tmp/up; sleep 300")
                .withCreateContainerCmdModifier(cmd -> cmd.withHealthcheck(new com.github.dockerjava.api.model.HealthCheck()
                        .withTest(List.of("CMD-SHELL", "test -f /tmp/up")).withInterval(500_000_000L).withRetries(30)))
                .waitingFor(Wait.forHealthcheck().withStartupTimeout(Duration.ofSeconds(60)))) {
            c.start();
            assertThat(c.isHealthy()).isTrue();
            assertThat(c.execInContainer("test", "-f", "/tmp/up").getExitCode()).as("started only once healthy").isZero();
        }
    }

    @Test
    void anExposedPortIsMappedAndWaitedFor() throws Exception {
        try (GenericContainer<?> web = new GenericContainer<>("busybox:latest")
                .withCommand("httpd", "-f", "-p", "80", "-h", "/etc")
                .withExposedPorts(80)) {
            web.start(); // the default wait strategy: the mapped port answers
            assertThat(web.getHost()).as("the bridge network's gateway, asked of dockgate").isEqualTo(bridgeGateway());
            int port = web.getMappedPort(80);
            try (Socket s = new Socket(web.getHost(), port)) {
                s.getOutputStream().write("GET /passwd HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                InputStream in = s.getInputStream();
                assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).contains("root:x:0:0");
            }
        }
    }

    @Test
    void containersOnANewNetworkTalkByAlias() throws Exception {
        try (Network network = Network.newNetwork();
             GenericContainer<?> server = new GenericContainer<>("busybox:latest")
                     .withCommand("httpd", "-f", "-p", "80", "-h", "/etc")
                     .withNetwork(network).withNetworkAliases("server")
                     .waitingFor(Wait.forSuccessfulCommand("wget -q -O /dev/null http://127.0.0.1/passwd"));
             GenericContainer<?> client = new GenericContainer<>("busybox:latest")
                     .withCommand("sleep", "300")
                     .withNetwork(network)) {
            server.start();
            client.start();
            Container.ExecResult r = client.execInContainer("sh", "-c", "timeout 5 wget -q -O - http://server/passwd; exit $?");
            assertThat(r.getStdout()).as(r.getStderr()).startsWith("root:x:0:0");
        }
    }
}
