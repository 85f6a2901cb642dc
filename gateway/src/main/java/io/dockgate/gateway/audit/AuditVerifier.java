package io.dockgate.gateway.audit;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Checks an audit log's chain: every line is JSON, its {@code seq} follows the line before, and its
 * {@code prev} is the SHA-256 of the line before (64 zeros for a log that starts at seq 1). An edited
 * line breaks the hash of the next one; a removed or reordered line breaks the sequence and the hashes.
 * (A log cut short at the end leaves a valid chain: compare the last seq with the daemon's log or a
 * copy kept elsewhere.)
 */
public final class AuditVerifier {
    private AuditVerifier() {
    }

    /** The outcome: records checked, the last seq, and the first problem if any (with its line number). */
    public record Result(long records, long lastSeq, String lastHash, Optional<String> problem) {
        public boolean ok() {
            return problem.isEmpty();
        }
    }

    public static Result verify(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        long lineNo = 0;
        long expectedSeq = -1;
        String prevHash = null;
        int start = 0;
        while (start < all.length) {
            int end = start;
            while (end < all.length && all[end] != '\n') {
                end++;
            }
            lineNo++;
            if (end == all.length) {
                return fail(lineNo, expectedSeq, prevHash, "line " + lineNo + ": incomplete last line (no newline)");
            }
            byte[] line = java.util.Arrays.copyOfRange(all, start, end);
            JsonNode record;
            try {
                record = AuditLog.JSON.readTree(line);
            } catch (IOException e) {
                return fail(lineNo, expectedSeq, prevHash, "line " + lineNo + ": not a JSON record");
            }
            if (record == null || !record.isObject() || !record.path("seq").canConvertToLong() || !record.path("prev").isTextual()) {
                return fail(lineNo, expectedSeq, prevHash, "line " + lineNo + ": not an audit record (seq and prev missing)");
            }
            long seq = record.get("seq").asLong();
            String prev = record.get("prev").asText();
            if (prevHash == null) {
                if (seq == 1 && !prev.equals(AuditLog.GENESIS)) {
                    return fail(lineNo, seq, null, "line 1: the first record does not start the chain");
                }
                if (seq != 1) {
                    return fail(lineNo, seq, null, "line 1: the log starts at record " + seq + ": records 1 to " + (seq - 1)
                            + " are missing");
                }
            } else {
                if (seq != expectedSeq) {
                    return fail(lineNo, expectedSeq, prevHash, "line " + lineNo + ": record " + seq + " where " + expectedSeq
                            + " was expected (a line was removed, inserted or moved)");
                }
                if (!prev.equals(prevHash)) {
                    return fail(lineNo, expectedSeq, prevHash, "line " + lineNo + ": the hash of line " + (lineNo - 1)
                            + " does not match (line " + (lineNo - 1) + " was edited, or lines were reordered)");
                }
            }
            prevHash = AuditLog.hex(line);
            expectedSeq = seq + 1;
            start = end + 1;
        }
        return new Result(lineNo, expectedSeq - 1, prevHash, Optional.empty());
    }

    private static Result fail(long lineNo, long seq, String hash, String problem) {
        return new Result(lineNo, seq, hash, Optional.of(problem));
    }
}
