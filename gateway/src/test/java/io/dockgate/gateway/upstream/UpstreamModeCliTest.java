package io.dockgate.gateway.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.certs.testing.TestPki;
import io.dockgate.config.ConfigKey;
import io.dockgate.gateway.testing.CliSession;
import io.dockgate.gateway.testing.DockerCli;
import io.dockgate.gateway.testing.Dockerd;
import io.dockgate.gateway.testing.RawHttp;
import io.dockgate.engine.testing.TestImages;
import java.io.IOException;
import java.net.ServerSocket;
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
 * dockgate in upstream mode in front of a private dockerd 20.10 reached over mutual TLS (dockgate's own
 * client certificate, dockerd's CA), driven by the docker CLI over dockgate's mutual TLS and its Unix
 * socket: runs with exit codes, stdin, TTYs, exec, attach, logs -f, cp both ways, events, volumes,
 * networks, a classic build; the API version is the lower of the two; an upstream that goes away
 * answers 502 in Docker's form, cuts open streams, and is used again once it is back.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UpstreamModeCliTest {
    @TempDir
    static Path tmp;
    private Dockerd dockerd;
    private CliSession unix;
    private CliSession tls;

    @BeforeAll
    void start() throws Exception {
        TestPki upstreamPki = TestPki.create();
        Path upstreamServer = tmp.resolve("upstream-pki");
        upstreamPki.writeServerFiles(upstreamServer);
        Path dockgateAsClient = upstreamPki.writeClientBundle(upstreamPki.client("dockgate"), tmp.resolve("dockgate-client"));
        dockerd = Dockerd.start(tmp.resolve("dockerd"), upstreamServer, freePort());
        unix = CliSession.startWithTls(tmp.resolve("dg"), Map.of(
                ConfigKey.UPSTREAM, "tcp://127.0.0.1:" + dockerd.tlsPort(),
                ConfigKey.UPSTREAM_TLS_CA_CERT, dockgateAsClient.resolve("ca.pem").toString(),
                ConfigKey.UPSTREAM_TLS_CERT, dockgateAsClient.resolve("cert.pem").toString(),
                ConfigKey.UPSTREAM_TLS_KEY, dockgateAsClient.resolve("key.pem").toString()));
        tls = unix.overTls();
        unix.ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox:latest");
    }

    @AfterAll
    void stop() throws Exception {
        if (unix != null) {
            unix.removeAllContainers();
            unix.close();
        }
        if (dockerd != null) {
            dockerd.close();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void runsExecsAttachesFollowsLogsAndCopiesOverBothListeners() throws Exception {
        for (CliSession cli : List.of(tls, unix)) {
            DockerCli.Result exited = cli.docker("run", "--rm", "--network", "none", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3");
            assertThat(exited.exitCode()).as(exited.toString()).isEqualTo(3);
            assertThat(exited.stdout()).isEqualTo("out\n");
            assertThat(exited.stderr()).contains("err");
            assertThat(cli.dockerWithInput("piped stdin\n".getBytes(StandardCharsets.UTF_8), "run", "-i", "--rm", "--network", "none",
                    "busybox", "cat").stdout()).isEqualTo("piped stdin\n");
            assertThat(cli.dockerInTerminal(List.of(), "run", "-t", "--rm", "--network", "none", "busybox", "echo", "tty").stdout())
                    .contains("tty");

            String id = cli.ok("run", "-d", "--network", "none", "busybox", "sh", "-c",
                    "i=0; while [ $i -lt 3 ]; do echo line$i; i=$((i+1)); sleep 0.3; done; sleep 300").stdout().trim();
            DockerCli.Result exec = cli.docker("exec", id, "sh", "-c", "echo in-exec; exit 4");
            assertThat(exec.exitCode()).isEqualTo(4);
            assertThat(exec.stdout()).isEqualTo("in-exec\n");
            assertThat(cli.dockerWithInput("to exec\n".getBytes(StandardCharsets.UTF_8), "exec", "-i", id, "cat").stdout())
                    .isEqualTo("to exec\n");

            Process follow = cli.dockerBackgroundReading("logs", "-f", id);
            String followed = readUntil(follow, "line2", 10);
            assertThat(followed).contains("line0", "line1", "line2");
            follow.destroy();

            Path local = Files.writeString(tmp.resolve("to-container.txt"), "copied in\n");
            cli.ok("cp", local.toString(), id + ":/tmp/in.txt");
            assertThat(cli.ok("exec", id, "cat", "/tmp/in.txt").stdout()).isEqualTo("copied in\n");
            Path back = tmp.resolve("from-container-" + System.nanoTime());
            cli.ok("cp", id + ":/tmp/in.txt", back.toString());
            assertThat(Files.readString(back)).isEqualTo("copied in\n");

            Process attached = cli.dockerBackgroundReading("attach", "--no-stdin", id);
            // written until seen: the attach may not be connected yet when the first line goes out
            Process writer = cli.dockerBackground("exec", id, "sh", "-c",
                    "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do echo via-attach > /proc/1/fd/1; sleep 0.5; done");
            assertThat(readUntil(attached, "via-attach", 12)).contains("via-attach");
            attached.destroy();
            writer.destroy();

            String started = cli.ok("create", "--network", "none", "busybox", "sh", "-c", "echo started-and-attached").stdout().trim();
            assertThat(cli.ok("start", "-a", started).stdout()).isEqualTo("started-and-attached\n");
            cli.ok("rm", "-f", id, started);
        }
    }

    @Test
    void eventsVolumesNetworksAndABuildPassThrough() throws Exception {
        String since = String.valueOf(System.currentTimeMillis() / 1000 - 1);
        tls.ok("volume", "create", "upvol");
        assertThat(unix.ok("volume", "ls", "-q").stdout()).contains("upvol");
        assertThat(tls.ok("volume", "inspect", "-f", "{{.Driver}} {{json .Labels}}", "upvol").stdout().trim())
                .as("the owner label is dockgate's record").isEqualTo("local {}");
        tls.ok("run", "--rm", "--network", "none", "-v", "upvol:/d", "busybox", "sh", "-c", "echo kept > /d/f");
        assertThat(unix.ok("run", "--rm", "--network", "none", "-v", "upvol:/d", "busybox", "cat", "/d/f").stdout()).isEqualTo("kept\n");
        tls.ok("volume", "rm", "upvol");

        tls.ok("network", "create", "--internal", "--subnet", "10.213.7.0/24", "upnet");
        assertThat(tls.ok("network", "inspect", "-f", "{{.Internal}} {{(index .IPAM.Config 0).Subnet}}", "upnet").stdout().trim())
                .isEqualTo("true 10.213.7.0/24");
        String a = tls.ok("run", "-d", "--network", "upnet", "--name", "up-a", "busybox", "sleep", "60").stdout().trim();
        assertThat(tls.ok("run", "--rm", "--network", "upnet", "busybox", "nslookup", "up-a", "127.0.0.11").stdout()).contains("10.213.7.");
        tls.ok("rm", "-f", a);
        tls.ok("network", "rm", "upnet");

        Path ctx = Files.createDirectories(tmp.resolve("ctx"));
        Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox\nCOPY hello /hello\nRUN cat /hello > /copy\nCMD [\"cat\", \"/copy\"]\n");
        Files.writeString(ctx.resolve("hello"), "built upstream\n");
        DockerCli.Result built = tls.dockerWith(Map.of("DOCKER_BUILDKIT", "0"), "build", "-t", "upbuilt:1", ctx.toString());
        assertThat(built.exitCode()).as(built.toString()).isZero();
        assertThat(built.stdout()).contains("Successfully tagged upbuilt:1");
        assertThat(unix.ok("run", "--rm", "--network", "none", "upbuilt:1").stdout()).isEqualTo("built upstream\n");
        try (io.dockgate.gateway.testing.Registry registry = io.dockgate.gateway.testing.Registry.startWithPassword(
                tmp.resolve("up-registry"), "up", "up-secret")) {
            tls.ok("tag", "upbuilt:1", registry.host() + "/upbuilt:1");
            assertThat(tls.ok("login", "-u", "up", "-p", "up-secret", registry.host()).stdout()).contains("Login Succeeded");
            DockerCli.Result pushed = tls.ok("push", registry.host() + "/upbuilt:1");
            assertThat(pushed.stdout()).contains("Pushed", "1: digest: sha256:");
            tls.ok("rmi", registry.host() + "/upbuilt:1");
            assertThat(tls.ok("pull", registry.host() + "/upbuilt:1").stdout()).contains("Digest: sha256:");
        }

        String until = String.valueOf(System.currentTimeMillis() / 1000 + 1);
        String events = tls.ok("events", "--since", since, "--until", until, "--format", "{{.Type}} {{.Action}}").stdout();
        assertThat(events).contains("volume create", "container start", "network create", "volume destroy", "image tag");
        assertThat(tls.ok("events", "--since", since, "--until", until, "--format", "{{json .Actor.Attributes}}").stdout())
                .doesNotContain("io.dockgate.upstream.owner", "io.dockgate.owner");
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
    void aHijackedAttachTheClientHalfClosesStillDeliversOverTls12And13(String protocol) throws Exception {
        String id = tls.ok("create", "--network", "none", "busybox", "sh", "-c", "sleep 0.3; echo one; sleep 0.3; echo two >&2")
                .stdout().trim();
        Path bundle = tmp.resolve("dg").resolve("client");
        java.security.cert.X509Certificate ca = io.dockgate.certs.Pem.readCertificate(bundle.resolve("ca.pem"));
        io.dockgate.certs.IssuedCertificate me = new io.dockgate.certs.IssuedCertificate(
                io.dockgate.certs.Pem.readCertificate(bundle.resolve("cert.pem")), io.dockgate.certs.Pem.readPrivateKey(bundle.resolve("key.pem")),
                List.of(ca));
        try (io.dockgate.gateway.testing.TlsClient client = io.dockgate.gateway.testing.TlsClient.connect(unix.daemon().tcpPort(), ca, me,
                protocol)) {
            client.socket().getOutputStream().write(("POST /v1.41/containers/" + id + "/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\n"
                    + "Host: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            java.io.InputStream in = client.input();
            assertThat(RawHttp.readHead(in)).startsWith("HTTP/1.1 101 UPGRADED\r\n");
            client.socket().shutdownOutput(); // close_notify, as the CLI without stdin: relayed upstream as a half-close
            tls.ok("start", id);
            assertThat(RawHttp.readFrames(in)).containsExactly("1:one\n", "2:two\n");
        } finally {
            tls.docker("rm", "-f", id);
        }
    }

    @Test
    void theApiVersionIsTheLowerOfTheTwo() throws Exception {
        assertThat(tls.ok("version", "-f", "{{.Server.APIVersion}} {{.Client.APIVersion}}").stdout().trim()).isEqualTo("1.41 1.41");
        String ping = RawHttp.unixGet(unix.socket(), "/_ping");
        assertThat(RawHttp.header(ping, "Api-Version")).isEqualTo("1.41");
        String tooNew = RawHttp.unixGet(unix.socket(), "/v1.45/containers/json");
        assertThat(RawHttp.status(tooNew)).isEqualTo(400);
        assertThat(RawHttp.body(tooNew)).contains("client version 1.45 is too new. Maximum supported API version is 1.41");
        // a ping answered a moment ago does not answer one of a version the upstream refuses: Testcontainers
        // pings /v1.44/_ping first and falls back to 1.32 only on a refusal
        assertThat(RawHttp.status(RawHttp.unixGet(unix.socket(), "/v1.41/_ping"))).isEqualTo(200);
        String newPing = RawHttp.unixGet(unix.socket(), "/v1.44/_ping");
        assertThat(RawHttp.status(newPing)).isEqualTo(400);
        assertThat(RawHttp.body(newPing)).contains("client version 1.44 is too new. Maximum supported API version is 1.41");
        assertThat(RawHttp.status(RawHttp.unixGet(unix.socket(), "/v1.32/_ping"))).isEqualTo(200);
    }

    @Test
    void anUpstreamOutageIsA502AndCutsStreamsThenPassesOnceItIsBack() throws Exception {
        String id = tls.ok("run", "-d", "--network", "none", "busybox", "sh", "-c", "echo before; sleep 300").stdout().trim();
        Process follow = tls.dockerBackgroundReading("logs", "-f", id);
        assertThat(readUntil(follow, "before", 10)).contains("before");
        Process events = tls.dockerBackground("events");
        Thread.sleep(300);
        dockerd.stop();
        try {
            assertThat(follow.waitFor(20, TimeUnit.SECONDS)).as("logs -f ends with the upstream").isTrue();
            assertThat(events.waitFor(20, TimeUnit.SECONDS)).as("events end with the upstream").isTrue();
            DockerCli.Result down = tls.docker("ps");
            assertThat(down.exitCode()).isNotZero();
            assertThat(down.stderr()).contains("the upstream Docker engine tcp://127.0.0.1:" + dockerd.tlsPort() + " cannot be reached");
            String raw = RawHttp.unixGet(unix.socket(), "/v1.41/containers/json");
            assertThat(RawHttp.status(raw)).isEqualTo(502);
            assertThat(RawHttp.header(raw, "Content-Type")).isEqualTo("application/json");
            assertThat(RawHttp.body(raw)).startsWith("{\"message\":\"the upstream Docker engine");
        } finally {
            follow.destroyForcibly();
            events.destroyForcibly();
            dockerd = dockerd.restart();
        }
        assertThat(tls.ok("run", "--rm", "--network", "none", "busybox", "echo", "back").stdout()).isEqualTo("back\n");
        tls.ok("rm", "-f", id);
    }

    /** Reads the process's output until the text appears (or the time is up); returns what was read. */
    private static String readUntil(Process p, String text, int seconds) throws Exception {
        StringBuilder seen = new StringBuilder();
        Thread reader = new Thread(() -> {
            try {
                byte[] buffer = new byte[4096];
                int n;
                while ((n = p.getInputStream().read(buffer)) > 0) {
                    synchronized (seen) {
                        seen.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                    }
                }
            } catch (IOException e) {
                // ended
            }
        });
        reader.setDaemon(true);
        reader.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            synchronized (seen) {
                if (seen.indexOf(text) >= 0) {
                    return seen.toString();
                }
            }
            Thread.sleep(50);
        }
        synchronized (seen) {
            return seen.toString();
        }
    }
}
