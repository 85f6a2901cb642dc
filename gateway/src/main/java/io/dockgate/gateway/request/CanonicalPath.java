package io.dockgate.gateway.request;

import io.dockgate.engine.EngineException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A request path split into segments, each percent-decoded exactly once, with the optional
 * {@code /v1.NN} prefix taken off. Everything that could make two readers disagree about the path is
 * refused before routing: empty segments ({@code //}), dot segments (raw or encoded), NUL, invalid
 * UTF-8, malformed escapes and escapes that decode to another escape (double encoding).
 */
public final class CanonicalPath {
    /** One decoded segment; {@code encodedSlash} says whether it contained %2F. */
    public record Segment(String value, boolean encodedSlash) {
    }

    private final Optional<ApiVersion> version;
    private final List<Segment> segments;

    private CanonicalPath(Optional<ApiVersion> version, List<Segment> segments) {
        this.version = version;
        this.segments = List.copyOf(segments);
    }

    public Optional<ApiVersion> version() {
        return version;
    }

    public List<Segment> segments() {
        return segments;
    }

    /** The decoded path without the version prefix, for logs. */
    public String display() {
        StringBuilder sb = new StringBuilder();
        for (Segment s : segments) {
            sb.append('/').append(s.value());
        }
        return sb.length() == 0 ? "/" : sb.toString();
    }

    /** Parses the raw path of the request target (without the query). */
    public static CanonicalPath parse(String rawPath) {
        if (rawPath.isEmpty() || rawPath.charAt(0) != '/') {
            throw EngineException.invalid("invalid request path: must start with /");
        }
        List<Segment> segments = new ArrayList<>();
        if (rawPath.length() > 1) {
            for (String raw : rawPath.substring(1).split("/", -1)) {
                if (raw.isEmpty()) {
                    throw EngineException.invalid("invalid request path: empty segment");
                }
                segments.add(decode(raw));
            }
        }
        Optional<ApiVersion> version = Optional.empty();
        if (!segments.isEmpty()) {
            String first = segments.get(0).value();
            if (first.length() > 1 && first.charAt(0) == 'v' && first.substring(1).chars().allMatch(c -> Character.isDigit(c) || c == '.')) {
                version = Optional.of(ApiVersion.parse(first.substring(1)));
                segments.remove(0);
            }
        }
        return new CanonicalPath(version, segments);
    }

    private static Segment decode(String raw) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        boolean encodedSlash = false;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                if (i + 2 >= raw.length()) {
                    throw EngineException.invalid("invalid request path: malformed percent-encoding");
                }
                int hi = Character.digit(raw.charAt(i + 1), 16);
                int lo = Character.digit(raw.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw EngineException.invalid("invalid request path: malformed percent-encoding");
                }
                int b = hi * 16 + lo;
                if (b == 0) {
                    throw EngineException.invalid("invalid request path: NUL byte");
                }
                if (b == '%') {
                    throw EngineException.invalid("invalid request path: double percent-encoding");
                }
                if (b == '/') {
                    encodedSlash = true;
                }
                bytes.write(b);
                i += 2;
            } else if (c < 0x21 || c == 0x7f || c > 0x7e) {
                throw EngineException.invalid("invalid request path: control or non-ASCII character");
            } else {
                bytes.write(c);
            }
        }
        String value;
        try {
            value = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw EngineException.invalid("invalid request path: not UTF-8");
        }
        if (value.equals(".") || value.equals("..")) {
            throw EngineException.invalid("invalid request path: dot segment");
        }
        if (value.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
            throw EngineException.invalid("invalid request path: control character");
        }
        return new Segment(value, encodedSlash);
    }
}
