package io.dockgate.gateway.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dockgate.engine.EngineException;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * The reading of a tenant's load archive under a coverage-guided fuzzer (Jazzer): archives written by
 * commons-compress from fuzzed entries (names long and short, PAX and GNU long names, files, directories,
 * links), some with a byte changed. Whatever the bytes, the watcher refuses with an EngineException or
 * reads, never anything else; how the bytes are cut into pieces changes nothing; it passes on a prefix;
 * and on an archive it reads to its end, the naming files it keeps are the ones another tar reader
 * (commons-compress) finds.
 */
class TarWatchFuzzTest {

    private record Read(int passed, Map<String, byte[]> naming, boolean ended, String refusal) {
    }

    private static Read read(byte[] archive, int piece) {
        TarWatch w = new TarWatch();
        int passed = 0;
        try {
            for (int i = 0; i < archive.length; i += piece) {
                int n = w.feed(Buffer.buffer().appendBytes(archive, i, Math.min(piece, archive.length - i)));
                assertThat(n).isBetween(0, Math.min(piece, archive.length - i));
                passed += n;
            }
            w.finish();
        } catch (EngineException e) {
            return new Read(passed, Map.of(), false, e.getMessage());
        }
        return new Read(passed, w.naming(), w.ended(), null);
    }

    private static String[] NAMES = {"manifest.json", "./manifest.json", "a/../manifest.json", "repositories", "index.json",
        "layer/layer.tar", "x/", "blobs/sha256/ab"};

    @FuzzTest(maxDuration = "45s")
    void archives(FuzzedDataProvider data) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            tar.setLongFileMode(data.consumeBoolean() ? TarArchiveOutputStream.LONGFILE_POSIX : TarArchiveOutputStream.LONGFILE_GNU);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            int entries = data.consumeInt(0, 6);
            for (int i = 0; i < entries; i++) {
                String name = data.consumeBoolean() ? data.pickValue(NAMES) : data.consumeString(160);
                if (name.isEmpty() || name.indexOf('\0') >= 0) {
                    name = "n" + i;
                }
                int kind = data.consumeInt(0, 3);
                TarArchiveEntry e = switch (kind) {
                    case 1 -> new TarArchiveEntry(name.endsWith("/") ? name : name + "/");
                    case 2 -> {
                        TarArchiveEntry l = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
                        l.setLinkName(data.consumeString(20));
                        yield l;
                    }
                    default -> new TarArchiveEntry(name);
                };
                byte[] content = kind == 0 || kind == 3 ? data.consumeBytes(data.consumeInt(0, 1500)) : new byte[0];
                e.setSize(content.length);
                tar.putArchiveEntry(e);
                tar.write(content);
                tar.closeArchiveEntry();
            }
        } catch (RuntimeException | java.io.IOException e) {
            return; // an entry commons-compress will not write
        }
        byte[] archive = out.toByteArray();
        boolean changed = data.consumeBoolean() && archive.length > 0;
        if (changed) {
            archive[data.consumeInt(0, archive.length - 1)] = data.consumeByte();
        }
        int piece = data.consumeInt(1, 1100);

        Read whole = read(archive, Math.max(1, archive.length));
        Read pieces = read(archive, piece);
        assertThat(pieces.refusal() == null).as("refused alike in pieces of " + piece).isEqualTo(whole.refusal() == null);
        if (whole.refusal() != null) {
            return;
        }
        assertThat(pieces.ended()).isEqualTo(whole.ended());
        assertThat(pieces.naming().keySet()).isEqualTo(whole.naming().keySet());
        whole.naming().forEach((k, v) -> assertThat(pieces.naming().get(k)).isEqualTo(v));
        assertThat(whole.passed()).isLessThanOrEqualTo(archive.length);
        assertThat(Math.abs(pieces.passed() - whole.passed())).as("a marker's partial block at most").isLessThan(512);
        if (changed) {
            return;
        }
        // what another reader finds in the same (unchanged) archive
        Map<String, byte[]> expected = new LinkedHashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(archive))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                String clean = TarWatch.clean(e.getName());
                if (TarWatch.NAMING.contains(clean) && !e.isDirectory()) {
                    expected.put(clean, in.readAllBytes());
                }
            }
        }
        assertThat(whole.naming().keySet()).isEqualTo(expected.keySet());
        expected.forEach((k, v) -> assertThat(Arrays.equals(whole.naming().get(k), v)).as(k).isTrue());
    }
}
