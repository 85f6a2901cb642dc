package io.dockgate.certs;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/** Read-only facts about a certificate in the forms dockgate shows and matches them. */
public final class CertificateInfo {
    private CertificateInfo() {
    }

    /** Serial number as lower-case hex without leading zeros (as openssl prints it, lower-cased). */
    public static String serialHex(X509Certificate certificate) {
        return certificate.getSerialNumber().toString(16);
    }

    /** SHA-256 of the DER encoding, lower-case hex without separators. */
    public static String fingerprintSha256(X509Certificate certificate) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(digest.digest(certificate.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new PkiException("cannot fingerprint certificate: " + e.getMessage(), e);
        }
    }

    /** The subject DN in RFC 2253 form. */
    public static String subject(X509Certificate certificate) {
        return certificate.getSubjectX500Principal().getName();
    }

    /** All values of one subject attribute (CN, O, OU, ...), in the order they appear. */
    public static List<String> subjectAttribute(X509Certificate certificate, String type) {
        List<String> values = new ArrayList<>();
        try {
            LdapName name = new LdapName(subject(certificate));
            for (Rdn rdn : name.getRdns()) {
                if (rdn.getType().equalsIgnoreCase(type)) {
                    values.add(String.valueOf(rdn.getValue()));
                }
            }
        } catch (InvalidNameException e) {
            throw new PkiException("unparsable subject " + subject(certificate), e);
        }
        // LdapName lists RDNs in DER order (the reverse of the RFC 2253 string): as they were issued.
        return values;
    }

    /** The subject CN, or an empty string when there is none. */
    public static String commonName(X509Certificate certificate) {
        List<String> cns = subjectAttribute(certificate, "CN");
        return cns.isEmpty() ? "" : cns.get(0);
    }

    public static boolean isSelfSigned(X509Certificate certificate) {
        if (!certificate.getSubjectX500Principal().equals(certificate.getIssuerX500Principal())) {
            return false;
        }
        try {
            certificate.verify(certificate.getPublicKey());
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /** Key size in bits (RSA modulus or EC field size), or -1 for other algorithms. */
    public static int keyBits(PublicKey key) {
        if (key instanceof RSAPublicKey rsa) {
            return rsa.getModulus().bitLength();
        }
        if (key instanceof ECPublicKey ec) {
            return ec.getParams().getCurve().getField().getFieldSize();
        }
        return -1;
    }

    /** Subject alternative names as "DNS:x" / "IP:y" strings, for display. */
    public static List<String> subjectAltNames(X509Certificate certificate) {
        List<String> names = new ArrayList<>();
        try {
            if (certificate.getSubjectAlternativeNames() == null) {
                return names;
            }
            for (List<?> entry : certificate.getSubjectAlternativeNames()) {
                int type = (Integer) entry.get(0);
                String value = String.valueOf(entry.get(1));
                switch (type) {
                    case 2 -> names.add("DNS:" + value);
                    case 7 -> names.add("IP:" + value);
                    case 6 -> names.add("URI:" + value);
                    case 1 -> names.add("email:" + value);
                    default -> names.add("other:" + value);
                }
            }
        } catch (java.security.cert.CertificateParsingException e) {
            throw new PkiException("unparsable subjectAltName: " + e.getMessage(), e);
        }
        return names;
    }

    public static String describe(X509Certificate certificate) {
        return "subject=\"" + subject(certificate) + "\" serial=" + serialHex(certificate);
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
