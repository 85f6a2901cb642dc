package io.dockgate.gateway.listen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dockgate.certs.IssuedCertificate;
import io.dockgate.certs.testing.TestPki;
import io.dockgate.config.ConfigKey;
import io.dockgate.gateway.testing.Prerequisites;
import io.dockgate.gateway.testing.RawHttp;
import io.dockgate.gateway.testing.TestDaemon;
import io.dockgate.gateway.testing.TlsClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connection limits over real mutual-TLS connections and the Unix socket: an identity beyond its
 * connection limit gets Docker's JSON 429 on its extra connection, which is then closed, while other
 * identities and root on the socket go on; connections idle between requests, or stalled in the middle
 * of a request head, are closed after the timeout, while a silent event stream is not cut.
 */
class ConnectionLimitsTest {
    @TempDir
    Path tmp;

    private TestPki pki;
    private Path pkiDir;

    @BeforeEach
    void pki() throws Exception {
        Prerequisites.requireRoot();
        pki = TestPki.create();
        pkiDir = tmp.resolve("pki");
        Files.createDirectories(pkiDir);
        pki.writeServerFiles(pkiDir);
    }

    private TestDaemon daemon(int maxPerIdentity, int idleSeconds) throws Exception {
        Map<ConfigKey, Object> flags = TestDaemon.tlsFlags(tmp, pkiDir);
        flags.put(ConfigKey.HOSTS, List.of("tcp://127.0.0.1:0", "unix://" + tmp.resolve("dg.sock")));
        flags.put(ConfigKey.MAX_CONNECTIONS_PER_IDENTITY, maxPerIdentity);
        flags.put(ConfigKey.IDLE_CONNECTION_TIMEOUT, idleSeconds);
        return TestDaemon.start(flags, tmp);
    }

    private TlsClient connect(TestDaemon d, IssuedCertificate who) throws Exception {
        return TlsClient.connect(d.tcpPort(), pki.ca().certificate(), who, "TLSv1.3");
    }

    /** Waits until the server closes the connection (a read sees the end of the stream). */
    private static long millisUntilClosed(InputStream in, int timeoutMillis, java.net.Socket socket) throws IOException {
        long start = System.nanoTime();
        socket.setSoTimeout(timeoutMillis);
        try {
            assertThat(in.read()).as("nothing but the end of the stream").isEqualTo(-1);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the connection was still open after " + timeoutMillis + " ms");
        } catch (javax.net.ssl.SSLException | java.net.SocketException e) {
            // a reset after the close also ends it
        }
        return (System.nanoTime() - start) / 1_000_000;
    }

    private static SocketChannel unix(Path socket) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        return channel;
    }

    private static String unixPing(SocketChannel channel) throws IOException {
        channel.write(ByteBuffer.wrap("GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
        return RawHttp.readResponse(Channels.newInputStream(channel));
    }

    @Test
    void anIdentityBeyondItsLimitIsRefusedOnTheExtraConnectionOnly() throws Exception {
        IssuedCertificate alice = pki.client("alice");
        IssuedCertificate bob = pki.client("bob");
        try (TestDaemon d = daemon(2, 0)) {
            List<TlsClient> open = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    TlsClient c = connect(d, alice);
                    open.add(c);
                    assertThat(RawHttp.status(c.get("/_ping"))).isEqualTo(200);
                }
                assertThat(d.daemon().connections().openBy("tls:alice")).isEqualTo(2);
                try (TlsClient third = connect(d, alice)) {
                    String r = third.get("/v1.41/containers/json");
                    assertThat(RawHttp.status(r)).isEqualTo(429);
                    assertThat(RawHttp.header(r, "Content-Type")).isEqualTo("application/json");
                    assertThat(RawHttp.body(r)).isEqualTo("{\"message\":\"too many connections: tls:alice already holds 2 open "
                            + "connections, the limit (--max-connections-per-identity); close some and retry\"}\n");
                    millisUntilClosed(third.input(), 5000, third.socket());
                }
                String decision = d.audit().await("\"rule\":\"connection-limit\"");
                assertThat(decision).contains("\"decision\":\"deny\"", "\"name\":\"alice\"", "\"status\":429");

                // others are not affected, and alice's first two still serve
                try (TlsClient b = connect(d, bob)) {
                    assertThat(RawHttp.status(b.get("/_ping"))).isEqualTo(200);
                }
                assertThat(RawHttp.status(open.get(1).get("/_ping"))).isEqualTo(200);

                // a closed connection frees its place
                open.remove(0).close();
                long deadline = System.currentTimeMillis() + 5000;
                while (d.daemon().connections().openBy("tls:alice") != 1 && System.currentTimeMillis() < deadline) {
                    Thread.sleep(20);
                }
                assertThat(d.daemon().connections().openBy("tls:alice")).isEqualTo(1);
                TlsClient again = connect(d, alice);
                open.add(again);
                assertThat(RawHttp.status(again.get("/_ping"))).isEqualTo(200);
            } finally {
                for (TlsClient c : open) {
                    c.close();
                }
            }
            long deadline = System.currentTimeMillis() + 5000;
            while (d.daemon().connections().openBy("tls:alice") != 0 && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            assertThat(d.daemon().connections().openBy("tls:alice")).isZero();

            // root on the Unix socket is not limited
            List<SocketChannel> rootConnections = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    SocketChannel c = unix(tmp.resolve("dg.sock"));
                    rootConnections.add(c);
                    assertThat(RawHttp.status(unixPing(c))).isEqualTo(200);
                }
            } finally {
                for (SocketChannel c : rootConnections) {
                    c.close();
                }
            }
        }
    }

    /** curl as nobody (uid 65534) on the daemon's socket. */
    private Process asNobody(String... curlArgs) throws IOException {
        List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "curl", "-s", "--unix-socket", tmp.resolve("dg.sock").toString()));
        command.addAll(List.of(curlArgs));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    private static void awaitOpen(TestDaemon d, String identity, int n) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (d.daemon().connections().openBy(identity) != n && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertThat(d.daemon().connections().openBy(identity)).as(identity).isEqualTo(n);
    }

    @Test
    void aUnixUserIsCountedByUid() throws Exception {
        try (TestDaemon d = daemon(2, 0)) {
            // the socket opened to everyone for this test only, so that another user can call
            Files.setPosixFilePermissions(tmp.resolve("dg.sock"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
            List<Process> streams = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    streams.add(asNobody("-N", "http://docker/events")); // each holds a connection open
                }
                awaitOpen(d, "unix:65534", 2);
                Process third = asNobody("http://docker/_ping");
                String out = new String(third.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(third.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
                assertThat(out).isEqualTo("{\"message\":\"too many connections: unix:65534 already holds 2 open connections, "
                        + "the limit (--max-connections-per-identity); close some and retry\"}\n");
                assertThat(RawHttp.status(RawHttp.unixGet(tmp.resolve("dg.sock"), "/_ping"))).as("root").isEqualTo(200);
            } finally {
                for (Process p : streams) {
                    p.destroy();
                    p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
                }
            }
            awaitOpen(d, "unix:65534", 0);
            Process again = asNobody("http://docker/_ping");
            assertThat(new String(again.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("OK");
        }
    }

    @Test
    void connectionsIdleBetweenRequestsAreClosedStreamsAreNot() throws Exception {
        IssuedCertificate alice = pki.client("alice");
        try (TestDaemon d = daemon(0, 1)) {
            // a keep-alive connection after its response: closed after about a second of silence
            try (TlsClient c = connect(d, alice)) {
                assertThat(RawHttp.status(c.get("/_ping"))).isEqualTo(200);
                long waited = millisUntilClosed(c.input(), 10_000, c.socket());
                assertThat(waited).isBetween(500L, 5000L);
            }
            // one that never finishes its request head: closed too
            try (TlsClient c = connect(d, alice)) {
                c.socket().getOutputStream().write("GET /_ping HTTP/1.1\r\nHost: loc".getBytes(StandardCharsets.US_ASCII));
                c.socket().getOutputStream().flush();
                millisUntilClosed(c.input(), 10_000, c.socket());
            }
            // a silent event stream stays open well past the timeout and still delivers
            try (TlsClient events = connect(d, alice)) {
                events.socket().getOutputStream().write("GET /events?filters=%7B%22type%22%3A%5B%22volume%22%5D%7D HTTP/1.1\r\nHost: localhost\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                events.socket().getOutputStream().flush();
                InputStream in = events.input();
                String head = readHead(in);
                assertThat(head).startsWith("HTTP/1.1 200");
                Thread.sleep(3500);
                try (TlsClient other = connect(d, alice)) {
                    String body = "{\"Name\":\"idle-test\"}";
                    other.socket().getOutputStream().write(("POST /volumes/create HTTP/1.1\r\nHost: localhost\r\n"
                            + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                            .getBytes(StandardCharsets.US_ASCII));
                    assertThat(RawHttp.status(RawHttp.readResponse(other.input()))).isEqualTo(201);
                }
                events.socket().setSoTimeout(5000);
                StringBuilder seen = new StringBuilder();
                while (!seen.toString().contains("idle-test")) {
                    int b = in.read();
                    assertThat(b).as("the stream is still open: " + seen).isNotNegative();
                    seen.append((char) b);
                }
            }
            // root's Unix connections are timed out like any other
            try (SocketChannel c = unix(tmp.resolve("dg.sock"))) {
                assertThat(RawHttp.status(unixPing(c))).isEqualTo(200);
                long start = System.nanoTime();
                var read = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        return c.read(ByteBuffer.allocate(1));
                    } catch (IOException e) {
                        return -2;
                    }
                });
                assertThat(read.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(-1);
                assertThat((System.nanoTime() - start) / 1_000_000).isBetween(500L, 5000L);
            }
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new java.io.EOFException(head.toString());
            }
            head.append((char) b);
        }
        return head.toString();
    }

    @Test
    void unauthenticatedHandshakesAreBoundedPerSourceAddress() throws Exception {
        IssuedCertificate alice = pki.client("alice");
        Map<ConfigKey, Object> flags = TestDaemon.tlsFlags(tmp, pkiDir);
        flags.put(ConfigKey.HOSTS, List.of("tcp://127.0.0.1:0"));
        flags.put(ConfigKey.MAX_CONCURRENT_HANDSHAKES_PER_IP, 2);
        try (TestDaemon d = TestDaemon.start(flags, tmp)) {
            // a finished handshake gives its slot back: connections held open after theirs do not count
            List<TlsClient> held = new ArrayList<>();
            try {
                for (int i = 0; i < 5; i++) {
                    TlsClient c = connect(d, alice);
                    held.add(c);
                    assertThat(RawHttp.status(c.get("/_ping"))).isEqualTo(200);
                }
            } finally {
                for (TlsClient c : held) {
                    c.close();
                }
            }
            List<java.net.Socket> silent = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    silent.add(new java.net.Socket("127.0.0.1", d.tcpPort())); // connected, never says hello
                }
                Thread.sleep(300); // accepted and holding their slots
                assertThatThrownBy(() -> connect(d, alice).get("/_ping")).as("a third handshake from 127.0.0.1")
                        .isInstanceOf(IOException.class);
                assertThat(d.audit().await("\"type\":\"handshake\"", "too many TLS handshakes in progress from 127.0.0.1"))
                        .contains("--max-concurrent-handshakes-per-ip");
                assertThat(d.rejectionsSnapshot()).anyMatch(r -> r.reason().contains("too many TLS handshakes"));
            } finally {
                for (java.net.Socket s : silent) {
                    s.close();
                }
            }
            // the closed connections gave their slots back
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (true) {
                try (TlsClient c = connect(d, alice)) {
                    assertThat(RawHttp.status(c.get("/_ping"))).isEqualTo(200);
                    break;
                } catch (IOException e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.sleep(100);
                }
            }
        }
    }
}
