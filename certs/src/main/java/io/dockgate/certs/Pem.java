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

    /** The first private key in the file (PKCS#8, or traditional RSA or EC). */
    public static PrivateKey readPrivateKey(Path file) {
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        for (Object o : readObjects(file)) {
            try {
                if (o instanceof PrivateKeyInfo info) {
                    return converter.getPrivateKey(info);
                }
                if (o instanceof PEMKeyPair pair) {
                    return converter.getKeyPair(pair).getPrivate();
                }
            } catch (IOException e) {
                throw new PkiException(file + ": invalid private key: " + e.getMessage(), e);
            }
            if (o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo) {
                throw new PkiException(file + ": encrypted private keys are not supported");
            }
        }
        throw new PkiException(file + ": no PEM private key found");
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
