package io.dockgate.certs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The on-disk PKI: file layout, permissions, SANs, usages, index and revocation. */
class PkiDirectoryTest {
    @TempDir
    Path tmp;

    private PkiDirectory initialized(KeyType type) {
        PkiDirectory pki = new PkiDirectory(tmp.resolve("pki"), Clock.systemUTC());
        pki.init(new PkiDirectory.InitRequest("dockgate CA", List.of("localhost", "dock.example"),
                List.of("127.0.0.1", "::1"), Duration.ofDays(10), type));
        return pki;
    }

    @Test
    void initWritesCaAndServerWithPrivateKeysAndSans() throws Exception {
        PkiDirectory pki = initialized(KeyType.EC);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(pki.path("ca-key.pem")))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(pki.path("server-key.pem")))).isEqualTo("rw-------");
        X509Certificate server = Pem.readCertificate(pki.path("server-cert.pem"));
        assertThat(CertificateInfo.subjectAltNames(server))
                .containsExactly("DNS:localhost", "DNS:dock.example", "IP:127.0.0.1", "IP:0:0:0:0:0:0:0:1");
        assertThat(server.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
        assertThat(server.getPublicKey().getAlgorithm()).isEqualTo("EC");
        server.verify(Pem.readCertificate(pki.path("ca.pem")).getPublicKey());
        assertThat(Pem.readCrls(pki.path("crl.pem"))).hasSize(1);
        assertThatThrownBy(() -> initialized(KeyType.EC)).hasMessageContaining("already exists");
    }

    @Test
    void rsaOnRequest() {
        PkiDirectory pki = initialized(KeyType.RSA);
        X509Certificate server = Pem.readCertificate(pki.path("server-cert.pem"));
        assertThat(server.getPublicKey().getAlgorithm()).isEqualTo("RSA");
        assertThat(CertificateInfo.keyBits(server.getPublicKey())).isEqualTo(3072);
    }

    @Test
    void clientBundleRevocationAndListing() throws Exception {
        PkiDirectory pki = initialized(KeyType.EC);
        Path out = tmp.resolve("alice");
        IssuedCertificate alice = pki.issueClient(new PkiDirectory.ClientRequest("alice", List.of("ops", "dev"),
                Duration.ofHours(3), KeyType.EC), out);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("key.pem")))).isEqualTo("rw-------");
        X509Certificate cert = Pem.readCertificate(out.resolve("cert.pem"));
        assertThat(CertificateInfo.commonName(cert)).isEqualTo("alice");
        assertThat(CertificateInfo.subjectAttribute(cert, "O")).containsExactly("ops", "dev");
        assertThat(cert.getExtendedKeyUsage()).containsExactly(ClientCertificateValidator.CLIENT_AUTH_OID);
        assertThat(Pem.readPrivateKey(out.resolve("key.pem")).getAlgorithm()).isEqualTo("EC");

        assertThat(pki.list()).extracting(CertificateIndex.Entry::kind).containsExactly("ca", "server", "client");
        pki.revoke(out.resolve("cert.pem"), Duration.ofDays(1));
        CertificateIndex.Entry entry = pki.list().get(2);
        assertThat(entry.status(java.time.Instant.now())).isEqualTo("revoked");
        RevocationList crl = RevocationList.load(pki.path("crl.pem"), Pem.readCertificates(pki.path("ca.pem")));
        assertThat(crl.isRevoked(alice.certificate())).isTrue();
        assertThatThrownBy(() -> pki.revoke("ffff", Duration.ofDays(1))).hasMessageContaining("no certificate with serial");
    }
}
