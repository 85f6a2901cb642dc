package io.dockgate.gateway.listen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dockgate.certs.IssuedCertificate;
import io.dockgate.certs.Pem;
import io.dockgate.certs.testing.TestPki;
import io.dockgate.gateway.Daemon;
import io.dockgate.gateway.testing.LogCapture;
import io.dockgate.gateway.testing.RawHttp;
import io.dockgate.gateway.testing.TestDaemon;
import io.dockgate.gateway.testing.TlsClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS material changes while the daemon runs: a rotated server certificate applies to new handshakes
 * while live connections go on; a new CRL cuts the revoked client's open connection; a broken file is
 * refused and the old material stays in force.
 */
class TlsReloadTest {
    @TempDir
    Path tmp;
    private TestPki pki;
    private Path pkiDir;

    @BeforeEach
    void pki() throws Exception {
        pki = TestPki.create();
        pkiDir = tmp.resolve("pki");
        Files.createDirectories(pkiDir);
        pki.writeServerFiles(pkiDir);
    }

    private X509Certificate serverCertSeenBy(int port, IssuedCertificate client) throws Exception {
        try (TlsClient c = TlsClient.connect(port, pki.ca().certificate(), client, "TLSv1.3")) {
            assertThat(RawHttp.status(c.get("/_ping"))).isEqualTo(200);
            return c.serverCertificate();
        }
    }

    @Test
    void serverCertificateRotatesUnderALiveKeepAliveConnection() throws Exception {
        IssuedCertificate alice = pki.client("alice");
        try (TestDaemon d = TestDaemon.start(TestDaemon.tlsFlags(tmp, pkiDir), tmp);
             TlsClient live = TlsClient.connect(d.tcpPort(), pki.ca().certificate(), alice, "TLSv1.3")) {
            assertThat(RawHttp.status(live.get("/_ping"))).isEqualTo(200);
            X509Certificate before = live.serverCertificate();

            IssuedCertificate rotated = pki.writeServerFiles(pkiDir);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            X509Certificate seen = serverCertSeenBy(d.tcpPort(), alice);
            while (!seen.equals(rotated.certificate()) && System.nanoTime() < deadline) {
                Thread.sleep(100);
                seen = serverCertSeenBy(d.tcpPort(), alice);
            }
            assertThat(seen).as("new handshakes present the rotated certificate").isEqualTo(rotated.certificate());
            assertThat(RawHttp.status(live.get("/_ping"))).as("the live connection goes on").isEqualTo(200);
            assertThat(live.serverCertificate()).as("with its original session").isEqualTo(before);
        }
    }

    @Test
    void revokedClientsOpenConnectionIsClosedAndItCannotReconnect() throws Exception {
        IssuedCertificate alice = pki.client("alice");
        IssuedCertificate bob = pki.client("bob");
        try (TestDaemon d = TestDaemon.start(TestDaemon.tlsFlags(tmp, pkiDir), tmp);
             TlsClient aliceConnection = TlsClient.connect(d.tcpPort(), pki.ca().certificate(), alice, "TLSv1.3");
             TlsClient bobConnection = TlsClient.connect(d.tcpPort(), pki.ca().certificate(), bob, "TLSv1.2")) {
            assertThat(RawHttp.status(aliceConnection.get("/_ping"))).isEqualTo(200);
            assertThat(RawHttp.status(bobConnection.get("/_ping"))).isEqualTo(200);

            pki.revoke(bob);
            TestPki.write(pkiDir.resolve("crl.pem"), Pem.encode(pki.crl()));
            long start = System.nanoTime();
            int read;
            try {
                read = bobConnection.input().read();
            } catch (IOException e) {
                read = -1;
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            System.out.println("revoked connection closed " + millis + " ms after the CRL was written");
            assertThat(read).as("the revoked client's connection was closed").isEqualTo(-1);
            assertThat(millis).as("closed promptly after the CRL changed").isLessThan(2000);

            assertThatThrownBy(() -> serverCertSeenBy(d.tcpPort(), bob)).isInstanceOf(IOException.class);
            assertThat(d.rejectionsSnapshot()).anySatisfy(r -> {
                assertThat(r.reason()).contains("revoked");
                assertThat(r.serial()).isEqualTo(bob.serialHex());
            });
            assertThat(RawHttp.status(aliceConnection.get("/_ping"))).as("others are not affected").isEqualTo(200);
        }
    }

    @Test
    void brokenFilesAreRefusedAndTheOldMaterialStays() throws Exception {
        IssuedCertificate alice = pki.client("alice");
        try (LogCapture log = LogCapture.of(Daemon.class.getName());
             TestDaemon d = TestDaemon.start(TestDaemon.tlsFlags(tmp, pkiDir), tmp)) {
            X509Certificate original = serverCertSeenBy(d.tcpPort(), alice);
            TestPki.writeKey(pkiDir.resolve("server-key.pem"), pki.client("unrelated").privateKeyPem());
            log.await("TLS reload failed, keeping the previous material");
            assertThat(serverCertSeenBy(d.tcpPort(), alice)).isEqualTo(original);

            TestPki.write(pkiDir.resolve("crl.pem"), Pem.encode(TestPki.create().crl()));
            Thread.sleep(1000);
            assertThat(log.messages().stream().filter(m -> m.contains("TLS reload failed")).count()).isGreaterThanOrEqualTo(1);
            assertThat(serverCertSeenBy(d.tcpPort(), alice)).isEqualTo(original);

            IssuedCertificate good = pki.writeServerFiles(pkiDir);
            log.await("TLS material reloaded");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!serverCertSeenBy(d.tcpPort(), alice).equals(good.certificate()) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(serverCertSeenBy(d.tcpPort(), alice)).isEqualTo(good.certificate());
        }
    }

    @Test
    void explicitReloadAppliesNewMaterial() throws Exception {
        IssuedCertificate alice = pki.client("alice");
        try (TestDaemon d = TestDaemon.start(TestDaemon.tlsFlags(tmp, pkiDir), tmp)) {
            IssuedCertificate rotated = pki.writeServerFiles(pkiDir);
            d.daemon().reload().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertThat(serverCertSeenBy(d.tcpPort(), alice)).isEqualTo(rotated.certificate());
        }
    }
}
