package io.dockgate.certs;

import io.dockgate.files.AtomicFiles;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A PKI kept in one directory, the layout behind {@code dockgate certs}:
 * <pre>
 *   ca.pem  ca-key.pem (0600)  server-cert.pem  server-key.pem (0600)  crl.pem  index.json
 * </pre>
 * Client bundles are written elsewhere in the DOCKER_CERT_PATH layout (ca.pem, cert.pem, key.pem).
 * Every file is written atomically; keys are created with mode 0600 from the start.
 */
public final class PkiDirectory {
    public static final String CA_CERT = "ca.pem";
    public static final String CA_KEY = "ca-key.pem";
    public static final String SERVER_CERT = "server-cert.pem";
    public static final String SERVER_KEY = "server-key.pem";
    public static final String CRL = "crl.pem";
    public static final Duration DEFAULT_CRL_VALIDITY = Duration.ofDays(30);

    private final Path dir;
    private final Clock clock;

    public PkiDirectory(Path dir, Clock clock) {
        this.dir = dir;
        this.clock = clock;
    }

    public Path dir() {
        return dir;
    }

    public Path path(String name) {
        return dir.resolve(name);
    }

    public boolean initialized() {
        return Files.exists(path(CA_CERT));
    }

    /** What {@code certs init} makes. */
    public record InitRequest(String caName, List<String> hostnames, List<String> ipAddresses, Duration validity,
                              KeyType keyType) {
    }

    /** Creates the CA, the server certificate and an empty CRL. Refuses to overwrite an existing CA. */
    public IssuedCertificate init(InitRequest request) {
        if (initialized()) {
            throw new PkiException(path(CA_CERT) + " already exists; refusing to replace an existing CA");
        }
        Instant now = clock.instant().minusSeconds(60);
        CertificateAuthority ca = CertificateAuthority.createRoot(CertificateSpec.builder()
                .commonName(request.caName())
                .organization("dockgate")
                .certificateAuthority(0)
                .keyType(request.keyType())
                .validity(now, now.plus(request.validity()))
                .build());
        CertificateSpec.Builder server = CertificateSpec.builder()
                .commonName(request.hostnames().isEmpty() ? "localhost" : request.hostnames().get(0))
                .serverAuth()
                .keyType(request.keyType())
                .validity(now, now.plus(request.validity()));
        request.hostnames().forEach(server::dnsName);
        request.ipAddresses().forEach(server::ipAddress);
        IssuedCertificate serverCert = ca.issue(server.build());
        try {
            Files.createDirectories(dir);
            AtomicFiles.writeString(path(CA_KEY), ca.held().privateKeyPem(), AtomicFiles.PRIVATE);
            AtomicFiles.writeString(path(SERVER_KEY), serverCert.privateKeyPem(), AtomicFiles.PRIVATE);
            AtomicFiles.writeString(path(SERVER_CERT), serverCert.certificatePem(), AtomicFiles.PUBLIC);
            CertificateIndex index = CertificateIndex.open(dir);
            index.add("ca", ca.certificate());
            index.add("server", serverCert.certificate());
            writeCrl(ca, index, DEFAULT_CRL_VALIDITY);
            // ca.pem last: its presence marks the directory as initialized.
            AtomicFiles.writeString(path(CA_CERT), ca.held().certificatePem(), AtomicFiles.PUBLIC);
        } catch (IOException e) {
            throw new PkiException("cannot write PKI in " + dir + ": " + e.getMessage(), e);
        }
        return serverCert;
    }

    /** Loads the CA with its key. */
    public CertificateAuthority authority() {
        requireInitialized();
        X509Certificate cert = Pem.readCertificate(path(CA_CERT));
        return new CertificateAuthority(new IssuedCertificate(cert, Pem.readPrivateKey(path(CA_KEY)), List.of()));
    }

    /** What {@code certs client} makes. */
    public record ClientRequest(String name, List<String> groups, Duration validity, KeyType keyType) {
    }

    /** Issues a client certificate and writes ca.pem, cert.pem and key.pem into outDir. */
    public IssuedCertificate issueClient(ClientRequest request, Path outDir) {
        CertificateAuthority ca = authority();
        Instant now = clock.instant().minusSeconds(60);
        Instant notAfter = now.plus(request.validity());
        if (notAfter.isAfter(ca.certificate().getNotAfter().toInstant())) {
            notAfter = ca.certificate().getNotAfter().toInstant();
        }
        CertificateSpec.Builder spec = CertificateSpec.builder()
                .commonName(request.name())
                .clientAuth()
                .keyType(request.keyType())
                .validity(now, notAfter);
        request.groups().forEach(spec::organization);
        IssuedCertificate client = ca.issue(spec.build());
        try {
            Files.createDirectories(outDir);
            AtomicFiles.writeString(outDir.resolve("key.pem"), client.privateKeyPem(), AtomicFiles.PRIVATE);
            AtomicFiles.writeString(outDir.resolve("cert.pem"), client.certificatePem(), AtomicFiles.PUBLIC);
            AtomicFiles.writeString(outDir.resolve("ca.pem"), ca.held().certificatePem(), AtomicFiles.PUBLIC);
        } catch (IOException e) {
            throw new PkiException("cannot write client bundle in " + outDir + ": " + e.getMessage(), e);
        }
        CertificateIndex index = CertificateIndex.open(dir);
        index.add("client", client.certificate());
        index.save();
        return client;
    }

    /** Revokes a certificate issued by this CA and re-signs crl.pem. Returns the revoked entry. */
    public CertificateIndex.Entry revoke(String serialHex, Duration crlValidity) {
        CertificateAuthority ca = authority();
        CertificateIndex index = CertificateIndex.open(dir);
        String serial = CertificateIndex.normalizeSerial(serialHex);
        CertificateIndex.Entry entry = index.find(serial)
                .orElseThrow(() -> new PkiException("no certificate with serial " + serial + " in " + index()));
        if ("ca".equals(entry.kind())) {
            throw new PkiException("refusing to revoke the CA certificate itself");
        }
        if (entry.revokedAt() == null) {
            entry = entry.revoke(clock.instant());
            index.replace(entry);
        }
        writeCrl(ca, index, crlValidity);
        return entry;
    }

    /** Revokes the certificate in a PEM file, which must have been issued by this CA. */
    public CertificateIndex.Entry revoke(Path certificateFile, Duration crlValidity) {
        X509Certificate cert = Pem.readCertificate(certificateFile);
        X509Certificate ca = authority().certificate();
        try {
            cert.verify(ca.getPublicKey());
        } catch (Exception e) {
            throw new PkiException(certificateFile + " was not issued by the CA in " + path(CA_CERT));
        }
        return revoke(CertificateInfo.serialHex(cert), crlValidity);
    }

    /** Re-signs crl.pem with a fresh nextUpdate (run before the old one passes). */
    public X509CRL refreshCrl(Duration crlValidity) {
        return writeCrl(authority(), CertificateIndex.open(dir), crlValidity);
    }

    public List<CertificateIndex.Entry> list() {
        requireInitialized();
        return new ArrayList<>(CertificateIndex.open(dir).entries());
    }

    private X509CRL writeCrl(CertificateAuthority ca, CertificateIndex index, Duration validity) {
        List<CertificateAuthority.Revocation> revoked = new ArrayList<>();
        for (CertificateIndex.Entry e : index.entries()) {
            if (e.revokedAt() != null) {
                revoked.add(new CertificateAuthority.Revocation(new BigInteger(e.serial(), 16), Instant.parse(e.revokedAt())));
            }
        }
        Instant now = clock.instant();
        X509CRL crl = ca.crl(revoked, now, now.plus(validity), index.nextCrlNumber());
        try {
            index.save();
            AtomicFiles.writeString(path(CRL), Pem.encode(crl), AtomicFiles.PUBLIC);
        } catch (IOException e) {
            throw new PkiException("cannot write " + path(CRL) + ": " + e.getMessage(), e);
        }
        return crl;
    }

    private Path index() {
        return dir.resolve(CertificateIndex.FILE);
    }

    private void requireInitialized() {
        if (!initialized()) {
            throw new PkiException(dir + " holds no CA (" + CA_CERT + "); run 'dockgate certs init --dir " + dir + "' first");
        }
    }
}
