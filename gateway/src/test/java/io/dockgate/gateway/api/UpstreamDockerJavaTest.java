package io.dockgate.gateway.api;

import io.dockgate.config.ConfigKey;
import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.CliSession;
import io.dockgate.gateway.testing.Dockerd;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * docker-java's scenarios (lifecycle, logs, exec, attach with stdin, copy, stats, volumes, events,
 * networks, build and commit) through dockgate in upstream mode to a private dockerd 20.10, over
 * dockgate's mutual TLS and its Unix socket.
 */
class UpstreamDockerJavaTest extends DockerJavaTest {
    private Dockerd dockerd;

    @Override
    @BeforeAll
    void start() throws Exception {
        dockerd = Dockerd.start(tmp.resolve("dockerd"));
        cli = CliSession.startWithTls(tmp, Map.of(ConfigKey.UPSTREAM, "unix://" + dockerd.socket()));
        cli.ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox");
    }

    @Override
    int loginRefusedStatus() {
        return 500; // dockerd 20.10 passes the registry's refusal on as a server error, and dockgate passes its answer on
    }

    @Override
    String apiVersion() {
        return "1.41"; // dockerd 20.10's, lower than dockgate's
    }

    @Override
    @AfterAll
    void stop() throws Exception {
        try {
            cli.removeAllContainers();
            cli.close();
        } finally {
            dockerd.close();
        }
    }
}
