package io.dockgate.certs;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;

/** The key algorithms the PKI issues: EC P-256 by default, RSA on request. */
public enum KeyType {
    EC("EC", 256, "SHA256withECDSA"),
    RSA("RSA", 3072, "SHA256withRSA");

    private final String algorithm;
    private final int defaultBits;
    private final String signatureAlgorithm;

    KeyType(String algorithm, int defaultBits, String signatureAlgorithm) {
        this.algorithm = algorithm;
        this.defaultBits = defaultBits;
        this.signatureAlgorithm = signatureAlgorithm;
    }

    /** The default signature algorithm for certificates signed with a key of this type. */
    public String signatureAlgorithm() {
        return signatureAlgorithm;
    }

    public int defaultBits() {
        return defaultBits;
    }

    /** Generates a key pair of the default size. */
    public KeyPair generate() {
        return generate(defaultBits);
    }

    /** Generates a key pair; for EC the size picks the NIST curve (256, 384 or 521). */
    public KeyPair generate(int bits) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
            if (this == EC) {
                generator.initialize(new ECGenParameterSpec("secp" + bits + "r1"));
            } else {
                generator.initialize(bits);
            }
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new PkiException("cannot generate a " + bits + "-bit " + algorithm + " key: " + e.getMessage(), e);
        }
    }

    /** Parses the command-line spelling ("ec" or "rsa"). */
    public static KeyType parse(String text) {
        for (KeyType type : values()) {
            if (type.name().equalsIgnoreCase(text)) {
                return type;
            }
        }
        throw new IllegalArgumentException("unknown key type \"" + text + "\" (expected ec or rsa)");
    }
}
