package io.dockgate.gateway.audit;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Checks an audit log's chain: every line is JSON, its {@code seq} follows the line before, and its
 * {@code prev} is the SHA-256 of the line before (64 zeros for a log that starts at seq 1). An edited
 * line breaks the hash of the next one; a removed or reordered line breaks the sequence and the hashes.
 * A log rotated by the daemon (moved, then SIGHUP) goes on in a new file whose first record follows the
 * old file's last one: the files are verified as one chain, oldest first, or a later file alone after
 * the hash its predecessor ended with. (A log cut short at the end leaves a valid chain: compare the
 * last seq with the daemon's log or a copy kept elsewhere.)
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

    /** Verifies one file that starts the chain. */
    public static Result verify(Path file) throws IOException {
        return verify(List.of(file), Optional.empty());
    }

    /**
     * Verifies files as one chain, in the order given.
     *
     * @param after the hash the first file's first record must follow (the last hash printed for the file
     *              before it), when the first file does not start the chain
     */
    public static Result verify(List<Path> files, Optional<String> after) throws IOException {
        long records = 0;
        long expectedSeq = -1;
        String prevHash = after.orElse(null);
        for (Path file : files) {
            String where = files.size() > 1 ? file.getFileName() + ": " : "";
            byte[] all = Files.readAllBytes(file);
            long lineNo = 0;
            int start = 0;
            while (start < all.length) {
                int end = start;
                while (end < all.length && all[end] != '\n') {
                    end++;
                }
                lineNo++;
                records++;
                if (end == all.length) {
                    return fail(records, expectedSeq, prevHash, where + "line " + lineNo + ": incomplete last line (no newline)");
                }
                byte[] line = java.util.Arrays.copyOfRange(all, start, end);
                JsonNode record;
                try {
                    record = AuditLog.JSON.readTree(line);
                } catch (IOException e) {
                    return fail(records, expectedSeq, prevHash, where + "line " + lineNo + ": not a JSON record");
                }
                if (record == null || !record.isObject() || !record.path("seq").canConvertToLong() || !record.path("prev").isTextual()) {
                    return fail(records, expectedSeq, prevHash, where + "line " + lineNo + ": not an audit record (seq and prev missing)");
                }
                long seq = record.get("seq").asLong();
                String prev = record.get("prev").asText();
                if (prevHash == null) {
                    if (seq == 1 && !prev.equals(AuditLog.GENESIS)) {
                        return fail(records, seq, null, where + "line 1: the first record does not start the chain");
                    }
                    if (seq != 1) {
                        return fail(records, seq, null, where + "line 1: the log starts at record " + seq + ": records 1 to " + (seq - 1)
                                + " are missing (a rotated log: verify it after the files before it, or give the hash"
                                + " the file before it ended with)");
                    }
                } else if (expectedSeq < 0) {
                    if (!prev.equals(prevHash)) {
                        return fail(records, seq, prevHash, where + "line 1: record " + seq + " does not follow the hash " + prevHash);
                    }
                } else {
                    if (seq != expectedSeq) {
                        return fail(records, expectedSeq, prevHash, where + "line " + lineNo + ": record " + seq + " where " + expectedSeq
                                + " was expected (a line was removed, inserted or moved" + (lineNo == 1 ? ", or files are missing or out of order" : "") + ")");
                    }
                    if (!prev.equals(prevHash)) {
                        return fail(records, expectedSeq, prevHash, where + "line " + lineNo + ": the hash of "
                                + (lineNo == 1 ? "the previous file's last line" : "line " + (lineNo - 1))
                                + " does not match (" + (lineNo == 1 ? "it" : "line " + (lineNo - 1)) + " was edited, or lines were reordered)");
                    }
                }
                prevHash = AuditLog.hex(line);
                expectedSeq = seq + 1;
                start = end + 1;
            }
        }
        return new Result(records, expectedSeq - 1, prevHash, Optional.empty());
    }

    private static Result fail(long records, long seq, String hash, String problem) {
        return new Result(records, seq, hash, Optional.of(problem));
    }
}
