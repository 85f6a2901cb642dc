package io.dockgate.gateway.listen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dockgate.certs.CertificateAuthority;
import io.dockgate.certs.IssuedCertificate;
import io.dockgate.certs.testing.TestPki;
import io.dockgate.gateway.testing.RawHttp;
import io.dockgate.gateway.testing.TestDaemon;
import io.dockgate.gateway.testing.TlsClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The mutual-TLS listener against a rejection matrix: every bad client is refused during the handshake,
 * the refusal is reported with its reason (and the certificate's subject and serial when one was
 * presented), and no request reaches the pipeline. Good clients (EC, RSA, through an intermediate CA,
 * TLS 1.2 and 1.3) get answers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsHandshakeTest {
    @TempDir
    static Path tmp;

    private TestPki pki;
    private TestDaemon daemon;
    private IssuedCertificate revoked;
    private IssuedCertificate viaRevokedIntermediate;
    private CertificateAuthority intermediate;

    @BeforeAll
    void start() throws Exception {
        pki = TestPki.create();
        revoked = pki.client("revoked-user");
        pki.revoke(revoked);
        CertificateAuthority badIntermediate = pki.intermediate("revoked team CA");
        viaRevokedIntermediate = badIntermediate.issue(pki.clientSpec("team-user").build());
        pki.revoke(badIntermediate.held());
        intermediate = pki.intermediate("team CA");
        Path pkiDir = tmp.resolve("pki");
        Files.createDirectories(pkiDir);
        pki.writeServerFiles(pkiDir);
        daemon = TestDaemon.start(TestDaemon.tlsFlags(tmp, pkiDir), tmp);
    }

    @AfterAll
    void stop() throws Exception {
        daemon.close();
    }

    /** A refused attempt: how to make it and what the rejection must say. */
    record Case(String name, Attempt attempt, String reason, IssuedCertificate presented) {
        @Override
        public String toString() {
            return name;
        }
    }

    @FunctionalInterface
    interface Attempt {
        void run(TlsHandshakeTest t) throws Exception;
    }

    static Attempt javaClient(java.util.function.Function<TlsHandshakeTest, IssuedCertificate> cert, String protocol, String... suites) {
        return t -> {
            try (TlsClient c = TlsClient.connect(t.daemon.tcpPort(), t.pki.ca().certificate(), cert.apply(t), protocol, suites)) {
                c.get("/_ping");
            }
        };
    }

    Stream<Arguments> refused() {
        return Stream.of(
                new Case("no client certificate, TLS 1.3", javaClient(t -> null, "TLSv1.3"), "no client certificate", null),
                new Case("no client certificate, TLS 1.2", javaClient(t -> null, "TLSv1.2"), "no client certificate", null),
                new Case("self-signed", javaClient(t -> TestPki.selfSignedClient("eve"), "TLSv1.3"), "not issued by the trusted CA", null),
                new Case("another CA with the same name", javaClient(t -> t.pki.wrongCaClient("eve"), "TLSv1.3"), "not issued by the trusted CA", null),
                new Case("expired", javaClient(t -> t.pki.expiredClient("old"), "TLSv1.3"), "expired", null),
                new Case("not yet valid", javaClient(t -> t.pki.notYetValidClient("early"), "TLSv1.3"), "not valid before", null),
                new Case("revoked", javaClient(t -> t.revoked, "TLSv1.3"), "revoked", null),
                new Case("revoked, TLS 1.2", javaClient(t -> t.revoked, "TLSv1.2"), "revoked", null),
                new Case("issued by a revoked intermediate", javaClient(t -> t.viaRevokedIntermediate, "TLSv1.3"), "revoked", null),
                new Case("serverAuth only", javaClient(t -> t.pki.serverAuthOnlyClient("srv"), "TLSv1.3"), "clientAuth", null),
                new Case("no extendedKeyUsage", javaClient(t -> t.pki.noExtendedKeyUsageClient("plain"), "TLSv1.3"), "clientAuth", null),
                new Case("CA-flagged", javaClient(t -> t.pki.caFlaggedClient("ca-user"), "TLSv1.3"), "CA certificate", null),
                new Case("RSA-1024", javaClient(t -> t.pki.rsa1024Client("weak"), "TLSv1.2"), "1024 bits", null),
                new Case("SHA-1 signature", javaClient(t -> t.pki.sha1Client("sha1"), "TLSv1.2"), "SHA1", null),
                new Case("malformed e-mail subjectAltName", javaClient(t -> t.pki.issue(t.pki.clientSpec("mail")
                        .email("invalid@address@example.com")), "TLSv1.3"), "malformed e-mail address", null),
                new Case("issued under a malformed e-mail name constraint",
                        t -> {
                            var odd = t.pki.ca().issueIntermediate(io.dockgate.certs.CertificateSpec.builder().commonName("odd CA")
                                    .certificateAuthority(0).permittedEmail("invalid@invalid@example.com").build());
                            javaClient(x -> odd.issue(t.pki.clientSpec("gus").email("gus@example.com").build()), "TLSv1.3").run(t);
                        }, "malformed e-mail name constraint", null),
                new Case("intermediate-issued leaf sent without its intermediate",
                        t -> {
                            IssuedCertificate leaf = t.intermediate.issue(t.pki.clientSpec("lonely").build());
                            IssuedCertificate withoutChain = new IssuedCertificate(leaf.certificate(), leaf.privateKey(), List.of());
                            javaClient(x -> withoutChain, "TLSv1.3").run(t);
                        }, "not issued by the trusted CA", null),
                new Case("CBC cipher suites only (TLS 1.2)",
                        javaClient(t -> t.pki.client("cbc"), "TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
                                "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"), "no common cipher suite", null),
                new Case("TLS 1.1", t -> t.openssl("-tls1_1"), "protocol version refused", null),
                new Case("TLS 1.0", t -> t.openssl("-tls1"), "protocol version refused", null),
                new Case("plain HTTP on the TLS port", TlsHandshakeTest::plainHttp, "not a TLS connection", null)
        ).map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void refusedAtTheTlsLayerAndNeverRouted(Case c) throws Exception {
        long received = daemon.daemon().stats().receivedCount();
        int before = daemon.rejections.size();
        assertThatThrownBy(() -> c.attempt().run(this)).as(c.name()).isInstanceOfAny(IOException.class, AssertionError.class);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (daemon.rejections.size() == before && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(daemon.rejections.size()).as("a rejection was reported for " + c.name()).isGreaterThan(before);
        HandshakeRejection rejection = daemon.rejectionsSnapshot().get(before);
        assertThat(rejection.reason()).as(c.name()).contains(c.reason());
        if (c.reason().equals("revoked") || c.reason().equals("expired") || c.reason().contains("clientAuth")) {
            assertThat(rejection.subject()).as("subject of " + c.name()).isNotBlank();
            assertThat(rejection.serial()).as("serial of " + c.name()).isNotBlank();
        }
        assertThat(daemon.daemon().stats().receivedCount()).as("no request reached the pipeline for " + c.name())
                .isEqualTo(received);
    }

    /** openssl s_client with an old protocol and a valid client certificate: must not complete. */
    void openssl(String protocolFlag) throws Exception {
        IssuedCertificate good = pki.client("old-client");
        Path dir = Files.createTempDirectory(tmp, "openssl");
        pki.writeClientBundle(good, dir);
        ProcessBuilder pb = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + daemon.tcpPort(),
                protocolFlag, "-cipher", "DEFAULT@SECLEVEL=0", "-cert", dir.resolve("cert.pem").toString(),
                "-key", dir.resolve("key.pem").toString(), "-CAfile", dir.resolve("ca.pem").toString(), "-quiet");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        try (OutputStream in = p.getOutputStream()) {
            in.write("GET /_ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(20, TimeUnit.SECONDS);
        if (output.contains("HTTP/1.1 200")) {
            throw new AssertionError("the daemon answered over " + protocolFlag + ": " + output);
        }
        throw new IOException("refused as expected: " + output.lines().findFirst().orElse(""));
    }

    void plainHttp() throws Exception {
        try (Socket s = new Socket("127.0.0.1", daemon.tcpPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET /_ping HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            byte[] answer = in.readNBytes(16);
            String text = new String(answer, StandardCharsets.ISO_8859_1);
            if (text.startsWith("HTTP/")) {
                throw new AssertionError("plain HTTP was answered: " + text);
            }
            throw new IOException("refused as expected (" + answer.length + " bytes of TLS alert or nothing)");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("accepted")
    void acceptedClientsGetAnswers(String name, java.util.function.Function<TlsHandshakeTest, IssuedCertificate> cert, String protocol)
            throws Exception {
        try (TlsClient c = TlsClient.connect(daemon.tcpPort(), pki.ca().certificate(), cert.apply(this), protocol)) {
            String response = c.get("/_ping");
            assertThat(RawHttp.status(response)).isEqualTo(200);
            assertThat(RawHttp.body(response)).isEqualTo("OK");
            assertThat(c.socket().getSession().getProtocol()).isEqualTo(protocol);
            assertThat(c.socket().getSession().getCipherSuite()).matches("TLS_(AES|CHACHA20|ECDHE_(ECDSA|RSA)_WITH_(AES_\\d+_GCM|CHACHA20)).*");
        }
    }

    Stream<Arguments> accepted() {
        java.util.function.Function<TlsHandshakeTest, IssuedCertificate> ec = t -> t.pki.client("alice", "ops");
        java.util.function.Function<TlsHandshakeTest, IssuedCertificate> rsa = t -> t.pki.rsaClient("bob");
        java.util.function.Function<TlsHandshakeTest, IssuedCertificate> chained = t -> t.intermediate.issue(t.pki.clientSpec("carol").build());
        return Stream.of(
                Arguments.of("EC client, TLS 1.3", ec, "TLSv1.3"),
                Arguments.of("EC client, TLS 1.2", ec, "TLSv1.2"),
                Arguments.of("RSA client, TLS 1.3", rsa, "TLSv1.3"),
                Arguments.of("RSA client, TLS 1.2", rsa, "TLSv1.2"),
                Arguments.of("client through an intermediate CA", chained, "TLSv1.3"));
    }

    @Test
    void rejectionsNameTheCertificate() throws Exception {
        int before = daemon.rejections.size();
        IssuedCertificate expired = pki.expiredClient("mallory");
        assertThatThrownBy(() -> javaClient(t -> expired, "TLSv1.3").run(this)).isInstanceOf(IOException.class);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (daemon.rejections.size() == before && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        HandshakeRejection r = daemon.rejectionsSnapshot().get(before);
        assertThat(r.subject()).isEqualTo("CN=mallory");
        assertThat(r.serial()).isEqualTo(expired.serialHex());
        assertThat(r.remote()).startsWith("127.0.0.1:");
    }
}
