package io.dockgate.certs.testing;

import io.dockgate.files.AtomicFiles;
import io.dockgate.certs.CertificateAuthority;
import io.dockgate.certs.CertificateSpec;
import io.dockgate.certs.IssuedCertificate;
import io.dockgate.certs.KeyType;
import io.dockgate.certs.Pem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A PKI for tests, made in memory per test: a root CA, a server certificate for localhost and
 * 127.0.0.1, and factories for every kind of good and bad client certificate the daemon must accept
 * or refuse. Nothing is committed; files are written only where a test asks.
 */
public final class TestPki {
    private final CertificateAuthority root;
    private final List<CertificateAuthority.Revocation> revoked = new ArrayList<>();

    private TestPki(CertificateAuthority root) {
        this.root = root;
    }

    public static TestPki create() {
        return create(KeyType.EC);
    }

    public static TestPki create(KeyType keyType) {
        return new TestPki(CertificateAuthority.createRoot(CertificateSpec.builder()
                .commonName("dockgate test CA").certificateAuthority(1).keyType(keyType)
                .validFor(Duration.ofDays(2)).build()));
    }

    public CertificateAuthority ca() {
        return root;
    }

    public IssuedCertificate server() {
        return root.issue(CertificateSpec.builder().commonName("localhost").dnsName("localhost")
                .ipAddress("127.0.0.1").serverAuth().build());
    }

    /** A well-formed client certificate: CN=name, O=groups..., clientAuth, EC P-256. */
    public IssuedCertificate client(String name, String... groups) {
        return root.issue(clientSpec(name, groups).build());
    }

    /** A client spec to adjust before issuing with {@link #issue}. */
    public CertificateSpec.Builder clientSpec(String name, String... groups) {
        CertificateSpec.Builder b = CertificateSpec.builder().commonName(name).clientAuth();
        for (String g : groups) {
            b.organization(g);
        }
        return b;
    }

    public IssuedCertificate issue(CertificateSpec.Builder spec) {
        return root.issue(spec.build());
    }

    public IssuedCertificate rsaClient(String name) {
        return issue(clientSpec(name).keyType(KeyType.RSA).keyBits(2048));
    }

    public IssuedCertificate expiredClient(String name) {
        Instant now = Instant.now();
        return issue(clientSpec(name).validity(now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1))));
    }

    public IssuedCertificate notYetValidClient(String name) {
        Instant now = Instant.now();
        return issue(clientSpec(name).validity(now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(2))));
    }

    public IssuedCertificate serverAuthOnlyClient(String name) {
        return issue(CertificateSpec.builder().commonName(name).serverAuth());
    }

    public IssuedCertificate noExtendedKeyUsageClient(String name) {
        return issue(CertificateSpec.builder().commonName(name));
    }

    public IssuedCertificate caFlaggedClient(String name) {
        return issue(clientSpec(name).certificateAuthority(0));
    }

    public IssuedCertificate rsa1024Client(String name) {
        return issue(clientSpec(name).keyType(KeyType.RSA).keyBits(1024));
    }

    public IssuedCertificate sha1Client(String name) {
        return issue(clientSpec(name).signatureAlgorithm("SHA1withECDSA"));
    }

    /** A client certificate with a valid shape, self-signed. */
    public static IssuedCertificate selfSignedClient(String name) {
        return CertificateAuthority.selfSigned(CertificateSpec.builder().commonName(name).clientAuth().build());
    }

    /** A client certificate from an unrelated CA with the same subject name as this one. */
    public IssuedCertificate wrongCaClient(String name) {
        CertificateAuthority impostor = CertificateAuthority.createRoot(CertificateSpec.builder()
                .commonName("dockgate test CA").certificateAuthority(1).build());
        return impostor.issue(clientSpec(name).build());
    }

    /** An intermediate CA below the root, for chain tests. */
    public CertificateAuthority intermediate(String name) {
        return root.issueIntermediate(CertificateSpec.builder().commonName(name).certificateAuthority(0).build());
    }

    /** Marks a certificate revoked in this PKI's next {@link #crl()}. */
    public void revoke(IssuedCertificate certificate) {
        revoked.add(new CertificateAuthority.Revocation(certificate.certificate().getSerialNumber(), Instant.now()));
    }

    public X509CRL crl() {
        return root.crl(revoked, Instant.now().minusSeconds(60), Instant.now().plus(Duration.ofDays(1)), revoked.size() + 1);
    }

    /** Writes ca.pem, server-cert.pem, server-key.pem and crl.pem for a daemon into dir. */
    public IssuedCertificate writeServerFiles(Path dir) {
        IssuedCertificate server = server();
        write(dir.resolve("ca.pem"), Pem.encode(root.certificate()));
        write(dir.resolve("server-cert.pem"), server.certificatePem());
        writeKey(dir.resolve("server-key.pem"), server.privateKeyPem());
        write(dir.resolve("crl.pem"), Pem.encode(crl()));
        return server;
    }

    /** Writes a DOCKER_CERT_PATH bundle (ca.pem, cert.pem, key.pem) for the client into dir. */
    public Path writeClientBundle(IssuedCertificate client, Path dir) {
        write(dir.resolve("ca.pem"), Pem.encode(root.certificate()));
        write(dir.resolve("cert.pem"), client.chainPem());
        writeKey(dir.resolve("key.pem"), client.privateKeyPem());
        return dir;
    }

    public static void write(Path file, String content) {
        try {
            AtomicFiles.writeString(file, content, AtomicFiles.PUBLIC);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void writeKey(Path file, String content) {
        try {
            AtomicFiles.writeString(file, content, AtomicFiles.PRIVATE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
