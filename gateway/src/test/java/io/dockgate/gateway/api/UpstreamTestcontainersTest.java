package io.dockgate.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.config.ConfigKey;
import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.CliSession;
import io.dockgate.gateway.testing.Dockerd;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Testcontainers' scenarios (a generic container waited for by its log, exec, an image from a
 * Dockerfile with its health check, a mapped port, a network with aliases) through dockgate in upstream
 * mode to a private dockerd 20.10 with a bridge of its own (172.31.216.0/24, no iptables: published
 * ports go through its userland proxy).
 */
class UpstreamTestcontainersTest extends TestcontainersTest {
    private Dockerd dockerd;

    @Override
    @BeforeAll
    void start() throws Exception {
        String host = System.getenv("DOCKER_HOST");
        assertThat(host).as("the pom sets DOCKER_HOST for Testcontainers").startsWith("unix://");
        dockerd = Dockerd.startWithBridge(tmp.resolve("dockerd"), "172.31.216.1/24");
        cli = CliSession.start(tmp, Path.of(host.substring("unix://".length())), Map.of(ConfigKey.UPSTREAM, "unix://" + dockerd.socket()));
        cli.ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox:latest");
    }

    @Override
    String bridgeGateway() {
        return "172.31.216.1";
    }

    @Override
    @AfterAll
    void stop() throws Exception {
        try {
            for (String n : cli.docker("network", "ls", "-q", "--filter", "type=custom").stdout().split("\\s+")) {
                if (!n.isBlank()) {
                    cli.docker("network", "rm", n);
                }
            }
            cli.removeAllContainers();
            cli.close();
        } finally {
            dockerd.close();
            new ProcessBuilder("ip", "link", "del", "docker0").start().waitFor();
        }
    }
}
