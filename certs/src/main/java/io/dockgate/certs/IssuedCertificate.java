package io.dockgate.certs;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * A certificate with its private key and the issuing certificates above it (closest issuer first,
 * root last; empty for a self-signed certificate).
 */
public record IssuedCertificate(X509Certificate certificate, PrivateKey privateKey, List<X509Certificate> issuers) {

    public IssuedCertificate {
        issuers = List.copyOf(issuers);
    }

    /** The certificate followed by every issuer except the self-signed root, as a TLS peer sends it. */
    public List<X509Certificate> chainWithoutRoot() {
        List<X509Certificate> chain = new ArrayList<>();
        chain.add(certificate);
        for (X509Certificate issuer : issuers) {
            if (!CertificateInfo.isSelfSigned(issuer)) {
                chain.add(issuer);
            }
        }
        return chain;
    }

    public String serialHex() {
        return CertificateInfo.serialHex(certificate);
    }

    public String certificatePem() {
        return Pem.encode(certificate);
    }

    /** The certificate and its non-root issuers, concatenated PEM. */
    public String chainPem() {
        return Pem.encodeAll(chainWithoutRoot());
    }

    public String privateKeyPem() {
        return Pem.encode(privateKey);
    }
}
