package io.dockgate.gateway.auth;

import io.dockgate.certs.CertificateInfo;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * What a verified client certificate says about its holder. Groups are the subject's O and OU values,
 * in that order (as {@code dockgate certs client --group} writes them into O).
 */
public record CertificateIdentity(String commonName, String subject, String issuer, String serial, String fingerprint,
                                  List<String> groups, List<String> subjectAltNames, X509Certificate certificate) {

    public static CertificateIdentity of(X509Certificate leaf) {
        List<String> groups = new ArrayList<>(CertificateInfo.subjectAttribute(leaf, "O"));
        groups.addAll(CertificateInfo.subjectAttribute(leaf, "OU"));
        return new CertificateIdentity(CertificateInfo.commonName(leaf), CertificateInfo.subject(leaf),
                leaf.getIssuerX500Principal().getName(), CertificateInfo.serialHex(leaf),
                CertificateInfo.fingerprintSha256(leaf), List.copyOf(groups),
                CertificateInfo.subjectAltNames(leaf), leaf);
    }
}
