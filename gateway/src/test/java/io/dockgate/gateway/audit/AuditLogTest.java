package io.dockgate.gateway.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.gateway.Main;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {
    @TempDir
    Path tmp;

    private static AuditRecord record(int i) {
        // control characters in the URI stay inside the JSON string
        return new AuditRecord.Decision(AuditLog.now(), "r-" + i, new AuditRecord.Request("127.0.0.1:1", "GET",
                "/containers/x" + i + "/json\r\nforged: line", null, "container.inspect", "x" + i),
                i % 3 == 0 ? "deny" : "allow", "rule", "reason", 0);
    }

    private Path writeLog(int n) throws Exception {
        Path file = tmp.resolve("audit/audit.log");
        try (AuditLog log = AuditLog.open(file)) {
            for (int i = 1; i <= n; i++) {
                log.append(record(i)).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
            }
        }
        return file;
    }

    private static List<String> lines(Path file) throws Exception {
        return new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
    }

    private static void write(Path file, List<String> lines) throws Exception {
        Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    }

    @Test
    void aChainOfRecordsVerifiesAndContinuesAcrossRestarts() throws Exception {
        Path file = writeLog(20);
        assertThat(Files.getPosixFilePermissions(file)).extracting(Object::toString).containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE");
        assertThat(lines(file)).hasSize(20).allSatisfy(l -> assertThat(l).doesNotContain("\r").startsWith("{\"seq\":"));
        try (AuditLog log = AuditLog.open(file)) {
            log.append(record(21)).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        }
        AuditVerifier.Result r = AuditVerifier.verify(file);
        assertThat(r.ok()).as(r.problem().orElse("")).isTrue();
        assertThat(r.records()).isEqualTo(21);
        assertThat(r.lastSeq()).isEqualTo(21);
        assertThat(Main.run("audit", "verify", file.toString())).isZero();
    }

    @Test
    void recordsFromManyThreadsOfEverySizeChainInOrder() throws Exception {
        Path file = tmp.resolve("audit/audit.log");
        int threads = 4;
        int perThread = 300;
        try (AuditLog log = AuditLog.open(file)) {
            List<Thread> writers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int writer = t;
                Thread w = new Thread(() -> {
                    for (int i = 0; i < perThread; i++) {
                        // now and then a record far larger than a thread's reused buffer keeps, then small ones again
                        AuditRecord m = new AuditRecord.Decision(AuditLog.now(), "r-" + i, new AuditRecord.Request("w", "GET", "/x",
                                null, "system.ping", "writer " + writer), "allow", "rule", "x".repeat(i % 50 == 7 ? 20_000 + i : i % 40), 0);
                        if (i % 2 == 0) {
                            log.append(m);
                        } else {
                            log.record(m);
                        }
                    }
                });
                w.start();
                writers.add(w);
            }
            for (Thread w : writers) {
                w.join();
            }
        }
        List<String> lines = lines(file);
        assertThat(lines).hasSize(threads * perThread);
        var strict = AuditLog.JSON.reader().with(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            var node = strict.readTree(lines.get(i)); // one object per line, nothing after it
            assertThat(node.path("seq").asLong()).isEqualTo(i + 1);
            assertThat(seen.add(node.path("target").asText() + "/" + node.path("id").asText())).isTrue();
            int n = Integer.parseInt(node.path("id").asText().substring(2));
            assertThat(node.path("reason").asText()).hasSize(n % 50 == 7 ? 20_000 + n : n % 40);
        }
        AuditVerifier.Result r = AuditVerifier.verify(file);
        assertThat(r.ok()).as(r.problem().orElse("")).isTrue();
        assertThat(r.records()).isEqualTo(threads * perThread);
    }

    @Test
    void aRotatedLogGoesOnInANewFileThatContinuesTheChain() throws Exception {
        Path file = tmp.resolve("audit/audit.log");
        Path rotated = tmp.resolve("audit/audit.log.1");
        try (AuditLog log = AuditLog.open(file)) {
            for (int i = 1; i <= 5; i++) {
                log.append(record(i));
            }
            log.record(record(6)); // waiting when the file is moved: it still goes to the old file
            Files.move(file, rotated);
            log.reopen();
            assertThat(Files.getPosixFilePermissions(file)).extracting(Object::toString)
                    .containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE");
            for (int i = 7; i <= 9; i++) {
                log.append(record(i));
            }
            log.reopen(); // not moved this time: appending goes on in the same file
            log.append(record(10));
        }
        assertThat(lines(rotated)).hasSize(6);
        assertThat(lines(file)).hasSize(4);
        AuditVerifier.Result old = AuditVerifier.verify(rotated);
        assertThat(old.ok()).isTrue();
        AuditVerifier.Result both = AuditVerifier.verify(List.of(rotated, file), java.util.Optional.empty());
        assertThat(both.ok()).as(both.problem().orElse("")).isTrue();
        assertThat(both.records()).isEqualTo(10);
        assertThat(both.lastSeq()).isEqualTo(10);
        assertThat(Main.run("audit", "verify", rotated.toString(), file.toString())).isZero();

        // the new file alone: only after the hash the old one ended with
        assertThat(AuditVerifier.verify(file).problem()).hasValueSatisfying(p -> assertThat(p)
                .startsWith("line 1: the log starts at record 7: records 1 to 6 are missing (a rotated log"));
        assertThat(AuditVerifier.verify(List.of(file), java.util.Optional.of(old.lastHash())).ok()).isTrue();
        assertThat(Main.run("audit", "verify", "--after", old.lastHash(), file.toString())).isZero();
        assertThat(AuditVerifier.verify(List.of(file), java.util.Optional.of(AuditLog.GENESIS)).problem())
                .hasValueSatisfying(p -> assertThat(p).startsWith("line 1: record 7 does not follow the hash"));
        // out of order, or a file missing in between
        assertThat(AuditVerifier.verify(List.of(file, rotated), java.util.Optional.empty()).ok()).isFalse();
        List<String> oldLines = lines(rotated);
        write(rotated, oldLines.subList(0, 5));
        assertThat(AuditVerifier.verify(List.of(rotated, file), java.util.Optional.empty()).problem()).hasValueSatisfying(p -> assertThat(p)
                .startsWith("audit.log: line 1: record 7 where 6 was expected"));
        oldLines.set(5, oldLines.get(5).replace("\"id\":\"r-6\"", "\"id\":\"r-66\""));
        write(rotated, oldLines);
        assertThat(AuditVerifier.verify(List.of(rotated, file), java.util.Optional.empty()).problem()).hasValueSatisfying(p -> assertThat(p)
                .startsWith("audit.log: line 1: the hash of the previous file's last line does not match"));
    }

    @Test
    void aTornLastLineIsCutAndTheCutRecorded() throws Exception {
        Path file = writeLog(5);
        Files.writeString(file, "{\"seq\":6,\"prev\":\"abc", java.nio.file.StandardOpenOption.APPEND);
        try (AuditLog log = AuditLog.open(file)) {
            log.append(record(6)).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        }
        List<String> lines = lines(file);
        assertThat(lines).hasSize(7);
        assertThat(lines.get(5)).contains("\"type\":\"recovery\"", "\"tornBytes\":20");
        assertThat(AuditVerifier.verify(file).ok()).isTrue();
    }

    @Test
    void editedRemovedReorderedAndInsertedLinesAreFound() throws Exception {
        Path file = writeLog(10);
        List<String> good = lines(file);

        List<String> edited = new ArrayList<>(good);
        edited.set(2, edited.get(2).replace("\"decision\":\"deny\"", "\"decision\":\"allow\""));
        assertThat(edited.get(2)).isNotEqualTo(good.get(2));
        write(file, edited);
        assertThat(AuditVerifier.verify(file).problem()).hasValueSatisfying(p -> assertThat(p).startsWith("line 4: the hash of line 3"));
        assertThat(Main.run("audit", "verify", file.toString())).isEqualTo(1);

        List<String> removed = new ArrayList<>(good);
        removed.remove(6);
        write(file, removed);
        assertThat(AuditVerifier.verify(file).problem()).hasValueSatisfying(p -> assertThat(p).startsWith("line 7: record 8 where 7"));

        List<String> reordered = new ArrayList<>(good);
        reordered.set(2, good.get(4));
        reordered.set(4, good.get(2));
        write(file, reordered);
        assertThat(AuditVerifier.verify(file).ok()).isFalse();

        List<String> inserted = new ArrayList<>(good);
        inserted.add(5, good.get(5).replace("r-6", "r-66"));
        write(file, inserted);
        assertThat(AuditVerifier.verify(file).ok()).isFalse();

        List<String> headless = new ArrayList<>(good.subList(2, good.size()));
        write(file, headless);
        assertThat(AuditVerifier.verify(file).problem()).hasValueSatisfying(p -> assertThat(p).contains("records 1 to 2 are missing"));

        write(file, good);
        assertThat(AuditVerifier.verify(file).ok()).isTrue();
    }

    @Test
    void recordsNobodyWaitsForGoOutWithTheNextDecisionOrSoonAfter() throws Exception {
        Path file = tmp.resolve("audit/audit.log");
        try (AuditLog log = AuditLog.open(file)) {
            log.record(record(1)); // an outcome: in the chain at once, in the file shortly
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (lines(file).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(lines(file)).hasSize(1);
            log.record(record(2));
            log.append(record(3)).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
            // the awaited record took the waiting one along, in chain order, in one write
            List<String> lines = lines(file);
            assertThat(lines).hasSize(3);
            assertThat(lines.get(1)).contains("\"seq\":2", "\"id\":\"r-2\"");
            assertThat(lines.get(2)).contains("\"seq\":3", "\"id\":\"r-3\"");
            log.record(record(4));
        }
        // closing writes what waits
        assertThat(lines(file)).hasSize(4);
        assertThat(AuditVerifier.verify(file).ok()).isTrue();
    }

    @Test
    void eachKindOfRecordWritesItsFieldsInTheirOrderAndTypes() throws Exception {
        assertThat(json(new AuditRecord.Decision("T", "r-1", new AuditRecord.Request("a:1", "POST", "/x\"y",
                io.dockgate.gateway.auth.Principal.anonymousTcp(), null, null), "deny", "default-deny", "no", 403)))
                .isEqualTo("{\"type\":\"decision\",\"time\":\"T\",\"id\":\"r-1\",\"remote\":\"a:1\",\"method\":\"POST\","
                        + "\"uri\":\"/x\\\"y\",\"principal\":{\"transport\":\"tcp_insecure\",\"name\":\"anonymous\",\"groups\":[]},\"operation\":null,\"decision\":\"deny\","
                        + "\"rule\":\"default-deny\",\"reason\":\"no\",\"status\":403}");
        assertThat(json(new AuditRecord.Outcome("T", "r-1", 200, 7, 0.5, false)))
                .isEqualTo("{\"type\":\"outcome\",\"time\":\"T\",\"id\":\"r-1\",\"status\":200,\"bytes\":7,\"ms\":0.5}");
        assertThat(json(new AuditRecord.HandshakeRefusal("T", "tls", "a:1", "expired", null, null)))
                .isEqualTo("{\"type\":\"handshake\",\"time\":\"T\",\"listener\":\"tls\",\"remote\":\"a:1\",\"decision\":\"deny\","
                        + "\"reason\":\"expired\"}");
        assertThat(json(new AuditRecord.PolicyReload("T", false, "/p.yaml", "bad")))
                .isEqualTo("{\"type\":\"policy\",\"time\":\"T\",\"event\":\"reload-refused\",\"file\":\"/p.yaml\",\"reason\":\"bad\"}");
        assertThat(json(new AuditRecord.FramingRefusal("T", "r-2", "a:1", null, "GET /x HTTP/1.1", "smuggling")))
                .isEqualTo("{\"type\":\"decision\",\"time\":\"T\",\"id\":\"r-2\",\"remote\":\"a:1\",\"request\":\"GET /x HTTP/1.1\","
                        + "\"operation\":null,\"decision\":\"deny\",\"rule\":\"request-model\",\"reason\":\"smuggling\"}");
        assertThat(json(new AuditRecord.Recovery(12))).isEqualTo("{\"type\":\"recovery\",\"tornBytes\":12}");
    }

    private static String json(AuditRecord r) throws Exception {
        return new String(AuditLog.serialize(r), StandardCharsets.UTF_8);
    }

    @Test
    void theTimestampReadsAsInstantWritesIt() {
        for (int i = 0; i < 1000; i++) {
            String now = AuditLog.now();
            java.time.Instant parsed = java.time.Instant.parse(now);
            assertThat(parsed.toString()).isEqualTo(now);
        }
    }

    @Test
    void aFailedWriteIsCutBackAndTheChainGoesOnWhenSpaceReturns() throws Exception {
        // a 16 KiB file system (tmpfs; the tests run as root) fills up under the log
        Path mount = tmp.resolve("small");
        Files.createDirectories(mount);
        Process m = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", mount.toString()).inheritIO().start();
        assertThat(m.waitFor()).isZero();
        try {
            Path file = mount.resolve("audit.log");
            Path filler = mount.resolve("filler");
            Files.write(filler, new byte[8192]);
            int written = 0;
            Throwable failure = null;
            try (AuditLog log = AuditLog.open(file)) {
                for (int i = 1; i <= 200 && failure == null; i++) {
                    var result = log.append(record(i));
                    if (result.failed()) {
                        failure = result.cause();
                    } else {
                        written++;
                    }
                }
                assertThat(failure).as("the file system filled up").isNotNull();
                assertThat(lines(file)).hasSize(written); // nothing of the failed record is left
                assertThat(AuditVerifier.verify(file).ok()).isTrue();
                Files.delete(filler);
                assertThat(log.append(record(1000)).succeeded()).isTrue();
            }
            List<String> lines = lines(file);
            assertThat(lines).hasSize(written + 1);
            assertThat(lines.get(written)).contains("\"seq\":" + (written + 1), "\"id\":\"r-1000\"");
            assertThat(AuditVerifier.verify(file).ok()).isTrue();
        } finally {
            new ProcessBuilder("umount", mount.toString()).inheritIO().start().waitFor();
        }
    }
}
