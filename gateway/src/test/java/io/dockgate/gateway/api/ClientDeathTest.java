package io.dockgate.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.CliSession;
import io.dockgate.gateway.testing.LogCapture;
import java.lang.management.ManagementFactory;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A client that dies while it streams (kill -9 of a foreground docker run, of docker run -i, docker exec,
 * docker logs -f, and of a raw attach to a container that never starts) costs the daemon nothing
 * afterwards: its CPU stays idle (a hijacked Unix connection whose client died raised a hang-up that the
 * event loop spun on at a full core) and the connection is closed. The daemon runs in this JVM, so the
 * JVM's CPU time is the daemon's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientDeathTest {
    @TempDir
    static Path tmp;
    private CliSession unix;
    private CliSession tls;

    @BeforeAll
    void start() throws Exception {
        unix = CliSession.startWithTls(tmp);
        tls = unix.overTls();
        unix.ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox");
    }

    @AfterEach
    void clean() throws Exception {
        unix.removeAllContainers();
    }

    @AfterAll
    void stop() throws Exception {
        if (unix != null) {
            unix.close();
        }
    }

    /** Seconds of CPU this JVM (the daemon) uses in the next two seconds. */
    private static double cpuSecondsOverTwoSeconds() throws InterruptedException {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long before = os.getProcessCpuTime();
        Thread.sleep(2000);
        return (os.getProcessCpuTime() - before) / 1e9;
    }

    private int connections() {
        return unix.daemon().daemon().connections().size();
    }

    private void awaitConnections(int expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (connections() > expected && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(connections()).as("connections left open after the client died").isLessThanOrEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource({"unix,run", "unix,run-i", "unix,exec", "unix,logs", "tls,run", "tls,run-i", "tls,exec", "tls,logs"})
    void aKilledClientLeavesTheDaemonIdleAndItsConnectionClosed(String transport, String kind) throws Exception {
        CliSession cli = transport.equals("tls") ? tls : unix;
        // Over TLS a dead client is found by the next write (as with dockerd): the container writes now and then.
        String[] quietOrNot = transport.equals("tls")
                ? new String[] {"sh", "-c", "while :; do sleep 0.3; echo tick; done"} : new String[] {"sleep", "300"};
        String name = "victim-" + transport + "-" + kind;
        if (!kind.startsWith("run")) {
            cli.ok(concat(new String[] {"run", "-d", "--name", name, "busybox"}, quietOrNot));
        }
        int before = connections();
        Process client = switch (kind) {
            case "run" -> cli.dockerBackground(concat(new String[] {"run", "--name", name, "busybox"}, quietOrNot));
            case "run-i" -> cli.dockerBackground(concat(new String[] {"run", "-i", "--name", name, "busybox"}, quietOrNot));
            case "exec" -> cli.dockerBackground(concat(new String[] {"exec", name}, quietOrNot));
            default -> cli.dockerBackground("logs", "-f", name);
        };
        Thread.sleep(1500); // streaming by now
        assertThat(client.isAlive()).as("the client streams").isTrue();
        client.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        Thread.sleep(500);
        assertThat(cpuSecondsOverTwoSeconds()).as("daemon CPU after the client died").isLessThan(0.5);
        awaitConnections(before);
        assertThat(unix.ok("inspect", "-f", "{{.State.Status}}", name).stdout().trim()).isEqualTo("running");
    }

    @Test
    void aRawAttachToAContainerThatNeverStartsEndsWithItsClient() throws Exception {
        unix.ok("create", "--name", "never-started", "busybox", "true");
        int before = connections();
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(unix.socket()));
            channel.write(ByteBuffer.wrap(("POST /v1.50/containers/never-started/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\n"
                    + "Host: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1)));
            byte[] head = new byte[12];
            Channels.newInputStream(channel).readNBytes(head, 0, 12);
            assertThat(new String(head, StandardCharsets.ISO_8859_1)).isEqualTo("HTTP/1.1 101");
            channel.shutdownOutput(); // the CLI without stdin half-closes ...
            Thread.sleep(300);
        } // ... and then dies
        Thread.sleep(500);
        assertThat(cpuSecondsOverTwoSeconds()).as("daemon CPU after the client died").isLessThan(0.5);
        awaitConnections(before);
    }

    @Test
    void clientsThatLeaveMidRequestAreNotInternalErrors() throws Exception {
        unix.ok("run", "-d", "--name", "target", "busybox", "sleep", "300");
        try (LogCapture log = LogCapture.of("io.dockgate")) {
            for (String head : new String[] {
                    "POST /v1.50/images/load HTTP/1.1\r\nHost: d\r\nContent-Type: application/x-tar\r\nContent-Length: 50000000\r\n\r\n",
                    "POST /v1.50/images/create?fromSrc=-&repo=half HTTP/1.1\r\nHost: d\r\nContent-Length: 50000000\r\n\r\n",
                    "PUT /v1.50/containers/target/archive?path=/tmp HTTP/1.1\r\nHost: d\r\nContent-Length: 50000000\r\n\r\n",
                    "POST /v1.50/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n",
                    "POST /v1.50/images/load HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n2000\r\n"}) {
                try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    channel.connect(UnixDomainSocketAddress.of(unix.socket()));
                    channel.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.ISO_8859_1)));
                    channel.write(ByteBuffer.wrap(new byte[4096])); // part of the body, then the client is gone
                    Thread.sleep(300);
                }
            }
            for (String[] args : new String[][] {{"logs", "-f", "target"}, {"save", "busybox"}, {"export", "target"}, {"events"},
                    {"stats", "target"}, {"wait", "target"}}) {
                Process p = unix.dockerBackground(args);
                Thread.sleep(700);
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            Thread.sleep(1000);
            assertThat(log.errors()).as("errors logged for clients that went away").isEmpty();
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
