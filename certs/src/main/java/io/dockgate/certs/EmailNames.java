package io.dockgate.certs;

import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralSubtree;
import org.bouncycastle.asn1.x509.NameConstraints;

/**
 * The syntax of e-mail names in certificates (RFC 5280 with RFC 5321 mailboxes), which the JDK's path
 * validator does not check: an rfc822Name subjectAltName must be one mailbox ({@code local@domain}), and
 * an rfc822Name name constraint a mailbox, a host or a {@code .domain}. A malformed one (two {@code @},
 * an empty label) makes name-constraint matching ambiguous, so the chain is refused, as Go's
 * crypto/x509 (the docker CLI's and dockerd's) refuses it.
 */
final class EmailNames {
    private static final Pattern DOT_ATOM = Pattern.compile("[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*");
    private static final Pattern QUOTED = Pattern.compile("\"([\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\x20-\\x7e])*\"");
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?");

    private EmailNames() {
    }

    /** The first malformed e-mail name of the certificate (subjectAltName or name constraint), or null. */
    static String malformed(X509Certificate c) {
        // read with BouncyCastle from the raw bytes: the JDK quietly drops a subjectAltName it cannot parse
        byte[] sanBytes = c.getExtensionValue(Extension.subjectAlternativeName.getId());
        if (sanBytes != null) {
            org.bouncycastle.asn1.x509.GeneralNames sans;
            try {
                sans = org.bouncycastle.asn1.x509.GeneralNames.getInstance(ASN1OctetString.getInstance(sanBytes).getOctets());
            } catch (RuntimeException e) {
                return "unparsable subjectAltName";
            }
            for (GeneralName n : sans.getNames()) {
                if (n.getTagNo() == GeneralName.rfc822Name && !mailbox(n.getName().toString())) {
                    return "malformed e-mail address in subjectAltName: " + n.getName();
                }
            }
        }
        byte[] ext = c.getExtensionValue(Extension.nameConstraints.getId());
        if (ext != null) {
            NameConstraints nc;
            try {
                nc = NameConstraints.getInstance(ASN1OctetString.getInstance(ext).getOctets());
            } catch (RuntimeException e) {
                return "unparsable name constraints";
            }
            List<GeneralSubtree> subtrees = new ArrayList<>();
            if (nc.getPermittedSubtrees() != null) {
                subtrees.addAll(List.of(nc.getPermittedSubtrees()));
            }
            if (nc.getExcludedSubtrees() != null) {
                subtrees.addAll(List.of(nc.getExcludedSubtrees()));
            }
            for (GeneralSubtree t : subtrees) {
                GeneralName n = t.getBase();
                if (n.getTagNo() == GeneralName.rfc822Name && !constraint(n.getName().toString())) {
                    return "malformed e-mail name constraint: " + n.getName();
                }
            }
        }
        return null;
    }

    /** One RFC 5321 mailbox: a dot-atom or quoted local part, one {@code @}, a host name. */
    static boolean mailbox(String s) {
        int at = s.startsWith("\"") ? s.indexOf('@', Math.max(1, closingQuote(s))) : s.indexOf('@');
        if (at <= 0) {
            return false;
        }
        String local = s.substring(0, at);
        return (DOT_ATOM.matcher(local).matches() || QUOTED.matcher(local).matches()) && host(s.substring(at + 1));
    }

    /** A name constraint: a mailbox, a host, or a domain with a leading dot. */
    static boolean constraint(String s) {
        if (s.contains("@")) {
            return mailbox(s);
        }
        return host(s.startsWith(".") ? s.substring(1) : s);
    }

    private static boolean host(String s) {
        if (s.isEmpty() || s.length() > 253) {
            return false;
        }
        for (String label : s.split("\\.", -1)) {
            if (label.length() > 63 || !LABEL.matcher(label).matches()) {
                return false;
            }
        }
        return true;
    }

    private static int closingQuote(String s) {
        for (int i = 1; i < s.length(); i++) {
            if (s.charAt(i) == '\\') {
                i++;
            } else if (s.charAt(i) == '"') {
                return i;
            }
        }
        return s.length();
    }
}
