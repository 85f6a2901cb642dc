package io.dockgate.certs;

import io.dockgate.files.AtomicFiles;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The record of every certificate a PKI directory issued ({@code index.json}), what {@code certs list}
 * shows and what {@code certs revoke} marks. Written atomically.
 */
public final class CertificateIndex {
    public static final String FILE = "index.json";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** One issued certificate. Times are ISO-8601 strings so the file stays readable. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Entry(String serial, String kind, String subject, String notBefore, String notAfter,
                        String fingerprint, String revokedAt) {
        public Entry revoke(Instant at) {
            return new Entry(serial, kind, subject, notBefore, notAfter, fingerprint, at.toString());
        }

        public String status(Instant now) {
            if (revokedAt != null) {
                return "revoked";
            }
            if (now.isAfter(Instant.parse(notAfter))) {
                return "expired";
            }
            if (now.isBefore(Instant.parse(notBefore))) {
                return "not-yet-valid";
            }
            return "valid";
        }
    }

    /** The file's content: entries plus the number of the last CRL signed. */
    public record Content(List<Entry> entries, long crlNumber) {
        public Content {
            entries = entries == null ? List.of() : List.copyOf(entries);
        }
    }

    private final Path file;
    private Content content;

    private CertificateIndex(Path file, Content content) {
        this.file = file;
        this.content = content;
    }

    public static CertificateIndex open(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.exists(file)) {
            return new CertificateIndex(file, new Content(List.of(), 0));
        }
        try {
            return new CertificateIndex(file, JSON.readValue(file.toFile(), Content.class));
        } catch (IOException e) {
            throw new PkiException(file + ": unreadable certificate index: " + e.getMessage(), e);
        }
    }

    public List<Entry> entries() {
        return content.entries();
    }

    public long crlNumber() {
        return content.crlNumber();
    }

    public Optional<Entry> find(String serialHex) {
        String wanted = normalizeSerial(serialHex);
        return content.entries().stream().filter(e -> e.serial().equals(wanted)).findFirst();
    }

    public void add(String kind, X509Certificate certificate) {
        List<Entry> entries = new ArrayList<>(content.entries());
        entries.add(new Entry(CertificateInfo.serialHex(certificate), kind, CertificateInfo.subject(certificate),
                certificate.getNotBefore().toInstant().toString(), certificate.getNotAfter().toInstant().toString(),
                CertificateInfo.fingerprintSha256(certificate), null));
        content = new Content(entries, content.crlNumber());
    }

    public void replace(Entry updated) {
        List<Entry> entries = new ArrayList<>();
        for (Entry e : content.entries()) {
            entries.add(e.serial().equals(updated.serial()) ? updated : e);
        }
        content = new Content(entries, content.crlNumber());
    }

    /** Increments and returns the CRL number. */
    public long nextCrlNumber() {
        content = new Content(content.entries(), content.crlNumber() + 1);
        return content.crlNumber();
    }

    public void save() {
        try {
            AtomicFiles.write(file, JSON.writeValueAsBytes(content), AtomicFiles.PUBLIC);
        } catch (IOException e) {
            throw new PkiException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Accepts "0A:1b", "0x0a1b" or "a1b"; returns lower-case hex without leading zeros. */
    public static String normalizeSerial(String text) {
        String hex = text.trim().toLowerCase(java.util.Locale.ROOT).replace(":", "");
        if (hex.startsWith("0x")) {
            hex = hex.substring(2);
        }
        if (hex.isEmpty() || !hex.matches("[0-9a-f]+")) {
            throw new IllegalArgumentException("not a hexadecimal serial number: " + text);
        }
        return new java.math.BigInteger(hex, 16).toString(16);
    }
}
