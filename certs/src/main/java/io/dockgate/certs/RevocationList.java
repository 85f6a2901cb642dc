package io.dockgate.certs;

import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Certificate revocation lists whose signatures were verified against the trusted CA certificates.
 * The JDK trust path that Vert.x builds applies CRLs without checking who signed them; dockgate
 * accepts a CRL only when it is signed by a certificate in the CA file and carries a nextUpdate.
 */
public final class RevocationList {
    private static final RevocationList EMPTY = new RevocationList(List.of());

    private final List<X509CRL> crls;

    private RevocationList(List<X509CRL> crls) {
        this.crls = List.copyOf(crls);
    }

    public static RevocationList empty() {
        return EMPTY;
    }

    /** Loads and verifies every CRL in a PEM file; fails with a message naming the file and the CRL. */
    public static RevocationList load(Path file, List<X509Certificate> caCertificates) {
        return of(Pem.readCrls(file), caCertificates, file.toString());
    }

    public static RevocationList of(List<X509CRL> crls, List<X509Certificate> caCertificates, String source) {
        List<X509CRL> verified = new ArrayList<>();
        for (X509CRL crl : crls) {
            X509Certificate signer = null;
            for (X509Certificate ca : caCertificates) {
                if (ca.getSubjectX500Principal().equals(crl.getIssuerX500Principal())) {
                    try {
                        crl.verify(ca.getPublicKey());
                        signer = ca;
                        break;
                    } catch (Exception e) {
                        // try the next CA with the same name
                    }
                }
            }
            if (signer == null) {
                throw new PkiException(source + ": CRL issued by \"" + crl.getIssuerX500Principal().getName()
                        + "\" is not signed by any certificate in the CA file");
            }
            if (crl.getNextUpdate() == null) {
                throw new PkiException(source + ": CRL issued by \"" + crl.getIssuerX500Principal().getName()
                        + "\" has no nextUpdate");
            }
            verified.add(crl);
        }
        return new RevocationList(verified);
    }

    /** True when a CRL from the certificate's issuer lists its serial number. */
    public boolean isRevoked(X509Certificate certificate) {
        for (X509CRL crl : crls) {
            if (crl.getIssuerX500Principal().equals(certificate.getIssuerX500Principal()) && crl.isRevoked(certificate)) {
                return true;
            }
        }
        return false;
    }

    /** The earliest nextUpdate among the CRLs, if any: after it the list is stale. */
    public Optional<Instant> earliestNextUpdate() {
        return crls.stream().map(c -> c.getNextUpdate().toInstant()).min(Instant::compareTo);
    }

    public int size() {
        return crls.size();
    }
}
