package io.dockgate.certs;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CRLException;
import java.security.cert.CertificateException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * PEM reading and writing. Private keys are written as unencrypted PKCS#8 ("PRIVATE KEY"), which the
 * docker CLI, Go and the JDK all read; PKCS#8 and traditional RSA/EC keys are read. Encrypted keys are
 * refused, as the docker CLI refuses them.
 */
public final class Pem {
    private Pem() {
    }

    public static String encode(X509Certificate certificate) {
        return write(new Object[] {certificate});
    }

    public static String encodeAll(Collection<X509Certificate> certificates) {
        return write(certificates.toArray());
    }

    public static String encode(X509CRL crl) {
        return write(new Object[] {crl});
    }

    public static String encode(PrivateKey key) {
        try {
            return write(new Object[] {new JcaPKCS8Generator(key, null)});
        } catch (Exception e) {
            throw new PkiException("cannot encode private key: " + e.getMessage(), e);
        }
    }

    private static String write(Object[] objects) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            for (Object o : objects) {
                if (o instanceof JcaPKCS8Generator generator) {
                    writer.writeObject(generator);
                } else {
                    writer.writeObject(new JcaMiscPEMGenerator(o));
                }
            }
        } catch (IOException e) {
            throw new PkiException("cannot encode PEM: " + e.getMessage(), e);
        }
        return out.toString();
    }

    /** Every certificate in the file, in order. Fails when the file holds none. */
    public static List<X509Certificate> readCertificates(Path file) {
        List<X509Certificate> certificates = new ArrayList<>();
        for (Object o : readObjects(file)) {
            if (o instanceof X509CertificateHolder holder) {
                try {
                    certificates.add(new JcaX509CertificateConverter().getCertificate(holder));
                } catch (CertificateException e) {
                    throw new PkiException(file + ": invalid certificate: " + e.getMessage(), e);
                }
            }
        }
        if (certificates.isEmpty()) {
            throw new PkiException(file + ": no PEM certificate found");
        }
        return certificates;
    }

    public static X509Certificate readCertificate(Path file) {
        return readCertificates(file).get(0);
    }

    /** Every CRL in the file. Fails when the file holds none. */
    public static List<X509CRL> readCrls(Path file) {
        List<X509CRL> crls = new ArrayList<>();
        for (Object o : readObjects(file)) {
            if (o instanceof X509CRLHolder holder) {
                try {
                    crls.add(new JcaX509CRLConverter().getCRL(holder));
                } catch (CRLException e) {
                    throw new PkiException(file + ": invalid CRL: " + e.getMessage(), e);
                }
            }
        }
        if (crls.isEmpty()) {
            throw new PkiException(file + ": no PEM X509 CRL found");
        }
        return crls;
    }

    /**
     * The first private key in the file (PKCS#8, or traditional RSA or EC), as a key of the JDK's own
     * providers: the TLS stack chooses signature schemes by the key's algorithm name, which is "EC" for
     * the JDK and "ECDSA" for BouncyCastle's provider (registered by some libraries in the same JVM).
     */
    public static PrivateKey readPrivateKey(Path file) {
        for (Object o : readObjects(file)) {
            try {
                if (o instanceof PrivateKeyInfo info) {
                    return jdkKey(info);
                }
                if (o instanceof PEMKeyPair pair) {
                    return jdkKey(pair.getPrivateKeyInfo());
                }
            } catch (IOException | java.security.GeneralSecurityException e) {
                throw new PkiException(file + ": invalid private key: " + e.getMessage(), e);
            }
            if (o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo) {
                throw new PkiException(file + ": encrypted private keys are not supported");
            }
        }
        throw new PkiException(file + ": no PEM private key found");
    }

    private static PrivateKey jdkKey(PrivateKeyInfo info) throws IOException, java.security.GeneralSecurityException {
        String oid = info.getPrivateKeyAlgorithm().getAlgorithm().getId();
        String algorithm = switch (oid) {
            case "1.2.840.10045.2.1" -> "EC";
            case "1.2.840.113549.1.1.1" -> "RSA";
            default -> null;
        };
        if (algorithm == null) {
            return new JcaPEMKeyConverter().getPrivateKey(info);
        }
        return java.security.KeyFactory.getInstance(algorithm).generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(info.getEncoded()));
    }

    private static List<Object> readObjects(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new PkiException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return parse(new StringReader(text), file.toString());
    }

    private static List<Object> parse(Reader reader, String source) {
        List<Object> objects = new ArrayList<>();
        try (PEMParser parser = new PEMParser(reader)) {
            Object o;
            while ((o = parser.readObject()) != null) {
                objects.add(o);
            }
        } catch (IOException | RuntimeException e) {
            throw new PkiException(source + ": malformed PEM: " + e.getMessage(), e);
        }
        return objects;
    }
}
