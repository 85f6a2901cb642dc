package io.dockgate.certs;

import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Set;

/**
 * Decides whether a client certificate chain may authenticate to the daemon: it must chain to a
 * certificate in the CA file (and nothing else: no system roots), be within its validity, carry
 * extendedKeyUsage clientAuth, not be a CA certificate, use a key of at least 2048 bits (RSA) or
 * 256 bits (EC), be signed with neither SHA-1 nor MD5, carry only well-formed e-mail names (subjectAltName
 * and name constraints, which the JDK does not check), and appear in no verified CRL.
 */
public final class ClientCertificateValidator {
    public static final String CLIENT_AUTH_OID = "1.3.6.1.5.5.7.3.2";
    private static final int MIN_RSA_BITS = 2048;
    private static final int MIN_EC_BITS = 256;

    private final List<X509Certificate> caCertificates;
    private final Set<TrustAnchor> anchors;
    private final RevocationList revocations;
    private final Clock clock;
    /** A malformed e-mail name in the CA file, found once when the material is loaded (null: none). */
    private final String caProblem;

    public ClientCertificateValidator(List<X509Certificate> caCertificates, RevocationList revocations, Clock clock) {
        if (caCertificates.isEmpty()) {
            throw new PkiException("no CA certificate to trust");
        }
        this.caCertificates = List.copyOf(caCertificates);
        this.anchors = new HashSet<>();
        for (X509Certificate ca : caCertificates) {
            anchors.add(new TrustAnchor(ca, null));
        }
        this.revocations = revocations;
        this.clock = clock;
        String problem = null;
        for (X509Certificate ca : caCertificates) {
            String malformed = EmailNames.malformed(ca);
            if (malformed != null && problem == null) {
                problem = malformed + " (in the trusted CA \"" + CertificateInfo.subject(ca) + "\")";
            }
        }
        this.caProblem = problem;
    }

    public List<X509Certificate> caCertificates() {
        return caCertificates;
    }

    public RevocationList revocations() {
        return revocations;
    }

    /** Validates the chain the peer sent (leaf first); throws with the first reason found. */
    public void validate(X509Certificate[] chain) throws CertificateRejectedException {
        if (chain == null || chain.length == 0) {
            throw new CertificateRejectedException("no client certificate presented", null);
        }
        X509Certificate leaf = chain[0];
        Date now = Date.from(clock.instant());
        if (leaf.getBasicConstraints() >= 0) {
            throw new CertificateRejectedException("a CA certificate cannot be used as a client certificate", leaf);
        }
        try {
            List<String> eku = leaf.getExtendedKeyUsage();
            if (eku == null || !eku.contains(CLIENT_AUTH_OID)) {
                throw new CertificateRejectedException(
                        "certificate is not for client authentication (extendedKeyUsage lacks clientAuth)", leaf);
            }
        } catch (CertificateParsingException e) {
            throw new CertificateRejectedException("unparsable extendedKeyUsage", leaf);
        }
        boolean[] keyUsage = leaf.getKeyUsage();
        if (keyUsage != null && !keyUsage[0]) {
            throw new CertificateRejectedException("keyUsage lacks digitalSignature", leaf);
        }
        try {
            leaf.checkValidity(now);
        } catch (CertificateExpiredException e) {
            throw new CertificateRejectedException("certificate expired at " + leaf.getNotAfter().toInstant(), leaf);
        } catch (CertificateNotYetValidException e) {
            throw new CertificateRejectedException("certificate not valid before " + leaf.getNotBefore().toInstant(), leaf);
        }
        List<X509Certificate> path = new ArrayList<>();
        for (X509Certificate c : chain) {
            if (!caCertificates.contains(c)) {
                path.add(c);
            }
        }
        if (path.isEmpty() || path.get(0) != leaf) {
            throw new CertificateRejectedException("the CA certificate itself was presented as a client certificate", leaf);
        }
        for (X509Certificate c : path) {
            checkStrength(c, leaf);
            String malformed = EmailNames.malformed(c);
            if (malformed != null) {
                throw new CertificateRejectedException(c == leaf ? malformed : malformed + " (in issuing certificate \""
                        + CertificateInfo.subject(c) + "\")", leaf);
            }
        }
        if (caProblem != null) {
            throw new CertificateRejectedException(caProblem, leaf);
        }
        if (!pathValidatedFor(path, now)) {
            try {
                CertificateFactory factory = CertificateFactory.getInstance("X.509");
                CertPath certPath = factory.generateCertPath(path);
                PKIXParameters parameters = new PKIXParameters(anchors);
                parameters.setRevocationEnabled(false);
                parameters.setDate(now);
                CertPathValidator.getInstance("PKIX").validate(certPath, parameters);
            } catch (CertPathValidatorException e) {
                throw new CertificateRejectedException(pathReason(e), leaf);
            } catch (Exception e) {
                throw new CertificateRejectedException("certificate path cannot be validated: " + e.getMessage(), leaf);
            }
            rememberValidPath(path);
        }
        for (X509Certificate c : path) {
            if (revocations.isRevoked(c)) {
                String who = c == leaf ? "certificate" : "issuing certificate \"" + CertificateInfo.subject(c) + "\"";
                throw new CertificateRejectedException(who + " is revoked (serial " + CertificateInfo.serialHex(c) + ")", leaf);
            }
        }
    }

    /**
     * Paths whose signatures and validity PKIX already checked against this validator's anchors, with the
     * time the first of their certificates expires. A client that reconnects skips the signature checks;
     * everything else (key usage, dates, strength, revocation) is checked on every handshake. A new
     * validator (new CA or CRL material) starts with an empty memory.
     */
    private final Map<List<X509Certificate>, long[]> validPaths = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<List<X509Certificate>, long[]> eldest) {
            return size() > 1024;
        }
    };

    private boolean pathValidatedFor(List<X509Certificate> path, Date now) {
        synchronized (validPaths) {
            long[] window = validPaths.get(path);
            return window != null && now.getTime() >= window[0] && now.getTime() < window[1];
        }
    }

    /** Remembers the path for the time every certificate in it (and every anchor) is valid. */
    private void rememberValidPath(List<X509Certificate> path) {
        long from = Long.MIN_VALUE;
        long until = Long.MAX_VALUE;
        for (X509Certificate c : path) {
            from = Math.max(from, c.getNotBefore().getTime());
            until = Math.min(until, c.getNotAfter().getTime());
        }
        for (TrustAnchor a : anchors) {
            from = Math.max(from, a.getTrustedCert().getNotBefore().getTime());
            until = Math.min(until, a.getTrustedCert().getNotAfter().getTime());
        }
        synchronized (validPaths) {
            validPaths.put(List.copyOf(path), new long[] {from, until});
        }
    }

    private static void checkStrength(X509Certificate c, X509Certificate leaf) throws CertificateRejectedException {
        String sig = c.getSigAlgName().toUpperCase(Locale.ROOT);
        if (sig.contains("SHA1") || sig.contains("MD5") || sig.contains("MD2")) {
            throw new CertificateRejectedException("signed with the weak algorithm " + c.getSigAlgName(), leaf);
        }
        int bits = CertificateInfo.keyBits(c.getPublicKey());
        String algorithm = c.getPublicKey().getAlgorithm();
        if (algorithm.equals("RSA") && bits < MIN_RSA_BITS) {
            throw new CertificateRejectedException("RSA key of " + bits + " bits is below the " + MIN_RSA_BITS + "-bit minimum", leaf);
        }
        if (algorithm.equals("EC") && bits < MIN_EC_BITS) {
            throw new CertificateRejectedException("EC key of " + bits + " bits is below the " + MIN_EC_BITS + "-bit minimum", leaf);
        }
        if (!algorithm.equals("RSA") && !algorithm.equals("EC")) {
            throw new CertificateRejectedException("unsupported key algorithm " + algorithm, leaf);
        }
    }

    private static String pathReason(CertPathValidatorException e) {
        CertPathValidatorException.Reason reason = e.getReason();
        if (reason == CertPathValidatorException.BasicReason.EXPIRED) {
            return "an issuing certificate has expired";
        }
        if (reason == CertPathValidatorException.BasicReason.NOT_YET_VALID) {
            return "an issuing certificate is not yet valid";
        }
        if (reason == CertPathValidatorException.BasicReason.INVALID_SIGNATURE) {
            return "invalid signature in the certificate chain";
        }
        if (reason == CertPathValidatorException.BasicReason.ALGORITHM_CONSTRAINED) {
            return "certificate chain uses a disallowed algorithm";
        }
        if (reason == java.security.cert.PKIXReason.NO_TRUST_ANCHOR) {
            return "certificate is not issued by the trusted CA";
        }
        if (reason == java.security.cert.PKIXReason.NOT_CA_CERT || reason == java.security.cert.PKIXReason.PATH_TOO_LONG
                || reason == java.security.cert.PKIXReason.INVALID_KEY_USAGE) {
            return "certificate chain has an issuer that may not issue it (" + e.getMessage() + ")";
        }
        return "certificate chain rejected: " + e.getMessage();
    }
}
