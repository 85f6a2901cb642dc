package io.dockgate.certs;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

/** A peer certificate refused by {@link ClientCertificateValidator}, with a reason a person can act on. */
public class CertificateRejectedException extends CertificateException {
    private final String reason;
    private final transient X509Certificate leaf;

    public CertificateRejectedException(String reason, X509Certificate leaf) {
        super(reason + (leaf != null ? " (" + CertificateInfo.describe(leaf) + ")" : ""));
        this.reason = reason;
        this.leaf = leaf;
    }

    /** The reason alone, without the certificate description. */
    public String reason() {
        return reason;
    }

    /** The certificate the peer presented first, or null when it presented none. */
    public X509Certificate leaf() {
        return leaf;
    }
}
