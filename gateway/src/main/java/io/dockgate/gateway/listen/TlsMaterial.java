package io.dockgate.gateway.listen;

import io.dockgate.certs.CertificateInfo;
import io.dockgate.certs.ClientCertificateValidator;
import io.dockgate.certs.PkiException;
import io.dockgate.certs.Pem;
import io.dockgate.certs.RevocationList;
import io.dockgate.config.DaemonConfig;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

/**
 * One consistent set of TLS files, loaded and checked together: the server key and chain, the trusted
 * client CA bundle and the verified CRLs. A reload builds a new set and swaps it in whole, or keeps the
 * old one when anything is wrong.
 */
public record TlsMaterial(PrivateKey serverKey, List<X509Certificate> serverChain, ClientCertificateValidator validator) {

    /** Loads and cross-checks the files named in the configuration. Blocking. */
    public static TlsMaterial load(DaemonConfig.TlsConfig config, Clock clock) {
        List<X509Certificate> chain = Pem.readCertificates(config.cert());
        PrivateKey key = Pem.readPrivateKey(config.key());
        X509Certificate leaf = chain.get(0);
        requireMatchingKey(leaf, key, config);
        try {
            List<String> eku = leaf.getExtendedKeyUsage();
            if (eku != null && !eku.contains("1.3.6.1.5.5.7.3.1")) {
                throw new PkiException(config.cert() + ": the server certificate's extendedKeyUsage lacks serverAuth");
            }
        } catch (java.security.cert.CertificateParsingException e) {
            throw new PkiException(config.cert() + ": unparsable extendedKeyUsage", e);
        }
        Instant now = clock.instant();
        if (now.isAfter(leaf.getNotAfter().toInstant())) {
            throw new PkiException(config.cert() + ": the server certificate expired at " + leaf.getNotAfter().toInstant());
        }
        List<X509Certificate> cas = Pem.readCertificates(config.caCert());
        for (X509Certificate ca : cas) {
            if (ca.getBasicConstraints() < 0) {
                throw new PkiException(config.caCert() + ": " + CertificateInfo.describe(ca) + " is not a CA certificate");
            }
        }
        RevocationList crl = config.crl().map(path -> RevocationList.load(path, cas)).orElse(RevocationList.empty());
        return new TlsMaterial(key, List.copyOf(chain), new ClientCertificateValidator(cas, crl, clock));
    }

    private static void requireMatchingKey(X509Certificate cert, PrivateKey key, DaemonConfig.TlsConfig config) {
        if (!family(cert.getPublicKey().getAlgorithm()).equals(family(key.getAlgorithm()))) {
            throw new PkiException(config.key() + " (" + key.getAlgorithm() + ") does not match the certificate in "
                    + config.cert() + " (" + cert.getPublicKey().getAlgorithm() + ")");
        }
        try {
            String algorithm = family(key.getAlgorithm()).equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            byte[] probe = "dockgate key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(cert.getPublicKey());
            verifier.update(probe);
            if (!verifier.verify(signature)) {
                throw new PkiException(config.key() + " does not match the certificate in " + config.cert());
            }
        } catch (java.security.GeneralSecurityException e) {
            throw new PkiException(config.key() + " cannot be checked against " + config.cert() + ": " + e.getMessage(), e);
        }
    }

    /** The key family: providers name EC keys "EC" (the JDK) or "ECDSA" (BouncyCastle, when registered). */
    private static String family(String algorithm) {
        return algorithm.equals("ECDSA") ? "EC" : algorithm;
    }

    public X509Certificate serverCertificate() {
        return serverChain.get(0);
    }
}
