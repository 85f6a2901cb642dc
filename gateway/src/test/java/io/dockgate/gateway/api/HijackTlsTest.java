package io.dockgate.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.certs.testing.TestPki;
import io.dockgate.config.ConfigKey;
import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.DockerCli;
import io.dockgate.gateway.testing.TestDaemon;
import io.dockgate.gateway.testing.TlsClient;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Docker's hijacked attach over mutual TLS 1.2 and 1.3: the client half-closes (close_notify) right after
 * 101 UPGRADED, as the docker CLI does without stdin, and must still receive the container's output.
 */
class HijackTlsTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
    void outputFlowsAfterTheClientsCloseNotify(String protocol) throws Exception {
        TestPki pki = TestPki.create();
        try (TestDaemon d = start(pki, 1)) {
            DockerCli.Result created = DockerCli.run(config, env, "create", "--name", "hj", "busybox", "sh", "-c",
                    "sleep 0.3; echo one; sleep 0.3; echo two >&2");
            assertThat(created.exitCode()).as(created.toString()).isZero();
            try (TlsClient client = TlsClient.connect(d.tcpPort(), pki.ca().certificate(), pki.client("alice"), protocol)) {
                client.socket().getOutputStream().write(("POST /v1.50/containers/hj/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\n"
                        + "Host: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                InputStream in = client.input();
                String head = readHead(in);
                assertThat(head).startsWith("HTTP/1.1 101 UPGRADED\r\n").contains("Upgrade: tcp", "application/vnd.docker.multiplexed-stream");
                client.socket().shutdownOutput(); // close_notify: what the CLI sends when it has no stdin
                Thread.sleep(2500); // silent for longer than the idle timeout: a hijacked stream is not idle
                DockerCli.Result started = DockerCli.run(config, env, "start", "hj");
                assertThat(started.exitCode()).as(started.toString()).isZero();
                List<String> frames = readFrames(in);
                assertThat(frames).containsExactly("1:one\n", "2:two\n");
            }
        }
    }

    @Test
    void revokingTheClientCutsItsHijackedStream() throws Exception {
        TestPki pki = TestPki.create();
        try (TestDaemon d = start(pki, 300)) {
            assertThat(DockerCli.run(config, env, "run", "-d", "--name", "ticker", "busybox", "sh", "-c",
                    "while true; do echo tick; sleep 0.1; done").exitCode()).isZero();
            var bob = pki.client("bob");
            try (TlsClient client = TlsClient.connect(d.tcpPort(), pki.ca().certificate(), bob, "TLSv1.3")) {
                client.socket().getOutputStream().write(("POST /v1.50/containers/ticker/attach?stream=1&stdout=1 HTTP/1.1\r\n"
                        + "Host: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                InputStream in = client.input();
                assertThat(readHead(in)).startsWith("HTTP/1.1 101 UPGRADED");
                assertThat(new String(in.readNBytes(13), StandardCharsets.UTF_8)).endsWith("tick\n");
                pki.revoke(bob);
                TestPki.write(pkiDir.resolve("crl.pem"), io.dockgate.certs.Pem.encode(pki.crl()));
                long start = System.nanoTime();
                byte[] buffer = new byte[4096];
                int n;
                try {
                    while ((n = in.read(buffer)) >= 0) {
                        assertThat(System.nanoTime() - start).as("the stream is cut soon after the CRL changes").isLessThan(5_000_000_000L);
                    }
                } catch (java.io.IOException e) {
                    // a reset also ends it
                }
                System.out.println("hijacked stream of a revoked client cut after " + (System.nanoTime() - start) / 1_000_000 + " ms");
            }
            DockerCli.run(config, env, "rm", "-f", "ticker");
        }
    }

    private Path socket;
    private Path pkiDir;
    private Path config;
    private Map<String, String> env;

    /** A daemon on mutual TLS (free port) and a Unix socket, with the busybox image imported. */
    private TestDaemon start(TestPki pki, int idleTimeoutSeconds) throws Exception {
        io.dockgate.gateway.testing.Prerequisites.requireRoot();
        pkiDir = Files.createDirectories(tmp.resolve("pki"));
        pki.writeServerFiles(pkiDir);
        socket = tmp.resolve("dg.sock");
        Map<ConfigKey, Object> flags = TestDaemon.tlsFlags(tmp, pkiDir);
        flags.put(ConfigKey.HOSTS, List.of("tcp://127.0.0.1:0", "unix://" + socket));
        flags.put(ConfigKey.IDLE_CONNECTION_TIMEOUT, idleTimeoutSeconds);
        TestDaemon d = TestDaemon.start(flags, tmp);
        config = tmp.resolve("docker-config");
        env = DockerCli.unixEnv(socket);
        DockerCli.Result imported = DockerCli.run(config, env, "import", TestImages.busyboxTar(tmp).toString(), "busybox");
        assertThat(imported.exitCode()).as(imported.toString()).isZero();
        return d;
    }

    private static String readHead(InputStream in) throws Exception {
        return io.dockgate.gateway.testing.RawHttp.readHead(in);
    }

    private static List<String> readFrames(InputStream in) throws Exception {
        return io.dockgate.gateway.testing.RawHttp.readFrames(in);
    }
}
