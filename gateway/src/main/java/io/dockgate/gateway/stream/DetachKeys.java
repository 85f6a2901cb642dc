package io.dockgate.gateway.stream;

import io.dockgate.engine.EngineException;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * Docker's detach keys (default {@code ctrl-p,ctrl-q}): when the client types the sequence on an attached
 * stdin, the daemon detaches it and the container goes on. The bytes of a partial match are held back
 * until the next byte shows whether the sequence goes on.
 */
public final class DetachKeys {
    public static final String DEFAULT = "ctrl-p,ctrl-q";

    private final byte[] sequence;
    private int matched;

    private DetachKeys(byte[] sequence) {
        this.sequence = sequence;
    }

    /** Parses Docker's syntax: comma-separated keys, each a single character or ctrl-X. */
    public static DetachKeys parse(String spec) {
        String s = spec == null || spec.isEmpty() ? DEFAULT : spec;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String key : s.split(",")) {
            if (key.length() == 1) {
                out.write(key.charAt(0));
            } else if (key.length() == 6 && key.startsWith("ctrl-")) {
                char c = Character.toLowerCase(key.charAt(5));
                if (c >= 'a' && c <= 'z') {
                    out.write(c - 'a' + 1);
                } else if ("@[\\]^_".indexOf(c) >= 0) {
                    out.write(c == '@' ? 0 : c - '[' + 27);
                } else {
                    throw EngineException.invalid("Invalid detach keys (" + s + ") provided");
                }
            } else {
                throw EngineException.invalid("Invalid detach keys (" + s + ") provided");
            }
        }
        return new DetachKeys(out.toByteArray());
    }

    /** What one chunk of input gives: the bytes to forward, and whether the sequence was typed. */
    public record Result(byte[] forward, boolean detach) {
    }

    public Result feed(byte[] input) {
        ByteArrayOutputStream forward = new ByteArrayOutputStream(input.length);
        for (byte b : input) {
            if (b == sequence[matched]) {
                matched++;
                if (matched == sequence.length) {
                    matched = 0;
                    return new Result(forward.toByteArray(), true);
                }
                continue;
            }
            if (matched > 0) {
                forward.write(sequence, 0, matched); // not the sequence after all: release what was held
                matched = 0;
                if (b == sequence[0]) {
                    matched = 1;
                    continue;
                }
            }
            forward.write(b);
        }
        return new Result(forward.toByteArray(), false);
    }

    @Override
    public String toString() {
        return Arrays.toString(sequence);
    }
}
