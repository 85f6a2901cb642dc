package io.dockgate.engine.image;

import io.dockgate.engine.EngineException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** A content digest, {@code sha256:<64 hex>}: image IDs, DiffIDs, ChainIDs and blob names. */
public record Digest(String hex) {
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

    public Digest {
        if (!HEX64.matcher(hex).matches()) {
            throw EngineException.invalid("invalid digest hex \"" + hex + "\"");
        }
    }

    /** Parses "sha256:hex". */
    public static Digest parse(String text) {
        if (text == null || !text.startsWith("sha256:")) {
            throw EngineException.invalid("invalid digest \"" + text + "\": only sha256 is supported");
        }
        return new Digest(text.substring(7));
    }

    public static Digest of(byte[] bytes) {
        return new Digest(HexFormat.of().formatHex(sha256().digest(bytes)));
    }

    public static Digest of(MessageDigest finished) {
        return new Digest(HexFormat.of().formatHex(finished.digest()));
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** ChainID(n) = sha256(ChainID(n-1) + " " + DiffID(n)); ChainID(0) = DiffID(0). */
    public static Digest chain(Digest parentChain, Digest diffId) {
        if (parentChain == null) {
            return diffId;
        }
        return of((parentChain + " " + diffId).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Override
    public String toString() {
        return "sha256:" + hex;
    }

    /** The 12-character short form Docker prints. */
    public String shortId() {
        return hex.substring(0, 12);
    }
}
