package io.dockgate.certs;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a certificate should say, in the style of OkHttp's HeldCertificate builder: a test or a
 * command reads like the certificate it makes. Defaults: EC P-256, valid from one minute ago for
 * one day, no extended key usage, not a CA, SHA-256 signature.
 */
public final class CertificateSpec {
    private static final SecureRandom RANDOM = new SecureRandom();

    final String commonName;
    final List<String> organizations;
    final List<String> organizationalUnits;
    final List<String> dnsNames;
    final List<String> ipAddresses;
    final List<String> emails;
    final List<String> permittedEmails;
    final Instant notBefore;
    final Instant notAfter;
    final boolean serverAuth;
    final boolean clientAuth;
    final int maxPathLength;
    final boolean certificateAuthority;
    final KeyType keyType;
    final int keyBits;
    final KeyPair keyPair;
    final String signatureAlgorithm;
    final BigInteger serial;

    private CertificateSpec(Builder b) {
        this.commonName = b.commonName;
        this.organizations = List.copyOf(b.organizations);
        this.organizationalUnits = List.copyOf(b.organizationalUnits);
        this.dnsNames = List.copyOf(b.dnsNames);
        this.ipAddresses = List.copyOf(b.ipAddresses);
        this.emails = List.copyOf(b.emails);
        this.permittedEmails = List.copyOf(b.permittedEmails);
        Instant from = b.notBefore != null ? b.notBefore : Instant.now().minus(1, ChronoUnit.MINUTES);
        this.notBefore = from.truncatedTo(ChronoUnit.SECONDS);
        this.notAfter = (b.notAfter != null ? b.notAfter : from.plus(b.validity)).truncatedTo(ChronoUnit.SECONDS);
        this.serverAuth = b.serverAuth;
        this.clientAuth = b.clientAuth;
        this.certificateAuthority = b.certificateAuthority;
        this.maxPathLength = b.maxPathLength;
        this.keyType = b.keyType;
        this.keyBits = b.keyBits > 0 ? b.keyBits : b.keyType.defaultBits();
        this.keyPair = b.keyPair;
        this.signatureAlgorithm = b.signatureAlgorithm;
        this.serial = b.serial != null ? b.serial : new BigInteger(127, RANDOM).add(BigInteger.ONE);
        if (!notAfter.isAfter(notBefore)) {
            throw new IllegalArgumentException("notAfter " + notAfter + " is not after notBefore " + notBefore);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public String commonName() {
        return commonName;
    }

    public Instant notAfter() {
        return notAfter;
    }

    /** Builder with fluent setters; every setter documents the certificate field it fills. */
    public static final class Builder {
        private String commonName;
        private final List<String> organizations = new ArrayList<>();
        private final List<String> organizationalUnits = new ArrayList<>();
        private final List<String> dnsNames = new ArrayList<>();
        private final List<String> ipAddresses = new ArrayList<>();
        private final List<String> emails = new ArrayList<>();
        private final List<String> permittedEmails = new ArrayList<>();
        private Instant notBefore;
        private Instant notAfter;
        private Duration validity = Duration.ofDays(1);
        private boolean serverAuth;
        private boolean clientAuth;
        private boolean certificateAuthority;
        private int maxPathLength = -1;
        private KeyType keyType = KeyType.EC;
        private int keyBits;
        private KeyPair keyPair;
        private String signatureAlgorithm;
        private BigInteger serial;

        /** Subject CN. */
        public Builder commonName(String cn) {
            this.commonName = Objects.requireNonNull(cn);
            return this;
        }

        /** Adds a subject O attribute (dockgate reads O and OU values as the holder's groups). */
        public Builder organization(String o) {
            organizations.add(o);
            return this;
        }

        /** Adds a subject OU attribute. */
        public Builder organizationalUnit(String ou) {
            organizationalUnits.add(ou);
            return this;
        }

        /** Adds a DNS subjectAltName. */
        public Builder dnsName(String name) {
            dnsNames.add(name);
            return this;
        }

        /** Adds an e-mail (rfc822Name) subjectAltName, written as given. */
        public Builder email(String address) {
            emails.add(address);
            return this;
        }

        /** For a CA: a permitted rfc822Name subtree in a critical name constraint (a mailbox, a host or a .domain), as given. */
        public Builder permittedEmail(String constraint) {
            permittedEmails.add(constraint);
            return this;
        }

        /** Adds an IP subjectAltName (IPv4 or IPv6 literal). */
        public Builder ipAddress(String address) {
            ipAddresses.add(address);
            return this;
        }

        public Builder notBefore(Instant instant) {
            this.notBefore = instant;
            return this;
        }

        public Builder notAfter(Instant instant) {
            this.notAfter = instant;
            return this;
        }

        /** Validity measured from notBefore (default one day). */
        public Builder validFor(Duration duration) {
            this.validity = duration;
            this.notAfter = null;
            return this;
        }

        /** Valid between the two instants. */
        public Builder validity(Instant from, Instant until) {
            this.notBefore = from;
            this.notAfter = until;
            return this;
        }

        /** extendedKeyUsage serverAuth. */
        public Builder serverAuth() {
            this.serverAuth = true;
            return this;
        }

        /** extendedKeyUsage clientAuth. */
        public Builder clientAuth() {
            this.clientAuth = true;
            return this;
        }

        /** basicConstraints cA=TRUE with the given pathLenConstraint (-1: none), keyUsage keyCertSign and cRLSign. */
        public Builder certificateAuthority(int maxPathLength) {
            this.certificateAuthority = true;
            this.maxPathLength = maxPathLength;
            return this;
        }

        public Builder keyType(KeyType type) {
            this.keyType = type;
            return this;
        }

        /** Key size: RSA modulus bits, or the EC curve size (256, 384, 521). */
        public Builder keyBits(int bits) {
            this.keyBits = bits;
            return this;
        }

        /** Use an existing key pair instead of generating one. */
        public Builder keyPair(KeyPair pair) {
            this.keyPair = pair;
            return this;
        }

        /** Signature algorithm used by the issuer (default SHA-256 with the issuer's key type). */
        public Builder signatureAlgorithm(String algorithm) {
            this.signatureAlgorithm = algorithm;
            return this;
        }

        public Builder serial(BigInteger serial) {
            this.serial = serial;
            return this;
        }

        public CertificateSpec build() {
            return new CertificateSpec(this);
        }
    }
}
