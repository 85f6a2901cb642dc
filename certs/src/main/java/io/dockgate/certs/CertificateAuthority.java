package io.dockgate.certs;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority: a CA certificate with its key, able to issue certificates, intermediate
 * CAs and CRLs. Also makes self-signed certificates (for tests of untrusted peers).
 */
public final class CertificateAuthority {
    private final IssuedCertificate held;

    public CertificateAuthority(IssuedCertificate held) {
        if (held.certificate().getBasicConstraints() < 0) {
            throw new PkiException("not a CA certificate: " + CertificateInfo.describe(held.certificate()));
        }
        this.held = held;
    }

    /** A new self-signed root CA; the spec is forced to be a CA. */
    public static CertificateAuthority createRoot(CertificateSpec spec) {
        if (!spec.certificateAuthority) {
            throw new IllegalArgumentException("a root CA spec must call certificateAuthority(...)");
        }
        return new CertificateAuthority(selfSigned(spec));
    }

    /** A self-signed certificate made from the spec (a CA or not, as the spec says). */
    public static IssuedCertificate selfSigned(CertificateSpec spec) {
        KeyPair pair = spec.keyPair != null ? spec.keyPair : spec.keyType.generate(spec.keyBits);
        X500Name subject = subjectOf(spec);
        X509Certificate certificate = sign(spec, subject, pair.getPublic(), subject, pair, null);
        return new IssuedCertificate(certificate, pair.getPrivate(), List.of());
    }

    public IssuedCertificate held() {
        return held;
    }

    public X509Certificate certificate() {
        return held.certificate();
    }

    /** Issues a certificate signed by this CA. */
    public IssuedCertificate issue(CertificateSpec spec) {
        KeyPair pair = spec.keyPair != null ? spec.keyPair : spec.keyType.generate(spec.keyBits);
        X500Name issuer = X500Name.getInstance(held.certificate().getSubjectX500Principal().getEncoded());
        KeyPair issuerPair = new KeyPair(held.certificate().getPublicKey(), held.privateKey());
        X509Certificate certificate = sign(spec, subjectOf(spec), pair.getPublic(), issuer, issuerPair, held.certificate());
        List<X509Certificate> issuers = new ArrayList<>();
        issuers.add(held.certificate());
        issuers.addAll(held.issuers());
        return new IssuedCertificate(certificate, pair.getPrivate(), issuers);
    }

    /** Issues an intermediate CA below this one. */
    public CertificateAuthority issueIntermediate(CertificateSpec spec) {
        if (!spec.certificateAuthority) {
            throw new IllegalArgumentException("an intermediate CA spec must call certificateAuthority(...)");
        }
        return new CertificateAuthority(issue(spec));
    }

    /** One revoked certificate in a CRL. */
    public record Revocation(BigInteger serial, Instant revokedAt) {
    }

    /** A CRL signed by this CA listing the given revocations. */
    public X509CRL crl(Collection<Revocation> revoked, Instant thisUpdate, Instant nextUpdate, long crlNumber) {
        try {
            X509v2CRLBuilder builder = new JcaX509v2CRLBuilder(held.certificate(), Date.from(thisUpdate));
            builder.setNextUpdate(Date.from(nextUpdate));
            for (Revocation r : revoked) {
                builder.addCRLEntry(r.serial(), Date.from(r.revokedAt()), CRLReason.unspecified);
            }
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.authorityKeyIdentifier, false,
                    utils.createAuthorityKeyIdentifier(held.certificate()));
            builder.addExtension(Extension.cRLNumber, false, new CRLNumber(BigInteger.valueOf(crlNumber)));
            ContentSigner signer = new JcaContentSignerBuilder(defaultSignature(held.certificate().getPublicKey()))
                    .build(held.privateKey());
            return new JcaX509CRLConverter().getCRL(builder.build(signer));
        } catch (Exception e) {
            throw new PkiException("cannot sign CRL: " + e.getMessage(), e);
        }
    }

    private static X500Name subjectOf(CertificateSpec spec) {
        X500NameBuilder name = new X500NameBuilder(BCStyle.INSTANCE);
        for (String o : spec.organizations) {
            name.addRDN(BCStyle.O, o);
        }
        for (String ou : spec.organizationalUnits) {
            name.addRDN(BCStyle.OU, ou);
        }
        if (spec.commonName != null) {
            name.addRDN(BCStyle.CN, spec.commonName);
        }
        return name.build();
    }

    private static X509Certificate sign(CertificateSpec spec, X500Name subject, PublicKey subjectKey,
                                        X500Name issuer, KeyPair issuerPair, X509Certificate issuerCert) {
        try {
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer, spec.serial,
                    Date.from(spec.notBefore), Date.from(spec.notAfter), subject, subjectKey);
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(subjectKey));
            builder.addExtension(Extension.authorityKeyIdentifier, false, issuerCert != null
                    ? utils.createAuthorityKeyIdentifier(issuerCert)
                    : utils.createAuthorityKeyIdentifier(issuerPair.getPublic()));
            if (spec.certificateAuthority) {
                builder.addExtension(Extension.basicConstraints, true, spec.maxPathLength >= 0
                        ? new BasicConstraints(spec.maxPathLength) : new BasicConstraints(true));
                builder.addExtension(Extension.keyUsage, true,
                        new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
            } else {
                builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
                int usage = KeyUsage.digitalSignature;
                if (subjectKey.getAlgorithm().equals("RSA")) {
                    usage |= KeyUsage.keyEncipherment;
                }
                builder.addExtension(Extension.keyUsage, true, new KeyUsage(usage));
            }
            List<KeyPurposeId> purposes = new ArrayList<>();
            if (spec.serverAuth) {
                purposes.add(KeyPurposeId.id_kp_serverAuth);
            }
            if (spec.clientAuth) {
                purposes.add(KeyPurposeId.id_kp_clientAuth);
            }
            if (!purposes.isEmpty()) {
                builder.addExtension(Extension.extendedKeyUsage, false,
                        new ExtendedKeyUsage(purposes.toArray(new KeyPurposeId[0])));
            }
            List<GeneralName> names = new ArrayList<>();
            for (String dns : spec.dnsNames) {
                names.add(new GeneralName(GeneralName.dNSName, dns));
            }
            for (String ip : spec.ipAddresses) {
                names.add(new GeneralName(GeneralName.iPAddress, ipLiteral(ip)));
            }
            for (String email : spec.emails) {
                names.add(new GeneralName(GeneralName.rfc822Name, email));
            }
            if (!spec.permittedEmails.isEmpty()) {
                org.bouncycastle.asn1.x509.GeneralSubtree[] permitted = spec.permittedEmails.stream()
                        .map(e -> new org.bouncycastle.asn1.x509.GeneralSubtree(new GeneralName(GeneralName.rfc822Name, e)))
                        .toArray(org.bouncycastle.asn1.x509.GeneralSubtree[]::new);
                builder.addExtension(Extension.nameConstraints, true, new org.bouncycastle.asn1.x509.NameConstraints(permitted, null));
            }
            if (!names.isEmpty()) {
                builder.addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(names.toArray(new GeneralName[0])));
            }
            String algorithm = spec.signatureAlgorithm != null ? spec.signatureAlgorithm
                    : defaultSignature(issuerPair.getPublic());
            ContentSigner signer = new JcaContentSignerBuilder(algorithm).build(issuerPair.getPrivate());
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (PkiException | IllegalArgumentException e) {
            throw e;
        } catch (Exception e) {
            throw new PkiException("cannot sign certificate for " + subject + ": " + e.getMessage(), e);
        }
    }

    private static String ipLiteral(String ip) {
        try {
            // Validate that it is a literal, never a name to resolve.
            if (!ip.matches("[0-9a-fA-F:.]+")) {
                throw new IllegalArgumentException("not an IP address literal: " + ip);
            }
            return InetAddress.getByName(ip).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address literal: " + ip, e);
        }
    }

    static String defaultSignature(PublicKey issuerKey) {
        return issuerKey.getAlgorithm().equals("RSA") ? KeyType.RSA.signatureAlgorithm() : KeyType.EC.signatureAlgorithm();
    }
}
