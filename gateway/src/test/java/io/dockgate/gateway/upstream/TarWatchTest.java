package io.dockgate.gateway.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dockgate.engine.EngineException;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;

/**
 * The reading of a tenant's load archive in upstream mode: the naming files found however the tar names
 * them (plain, ustar prefix, PAX path, GNU long name, ./ and a/../), in pieces of any size, everything
 * before the end-of-archive marker passed on and nothing after it; what Go's reader would read otherwise
 * (a compressed archive, a link named manifest.json, a sparse entry) refused.
 */
class TarWatchTest {
    private static final byte[] MANIFEST = "[{\"RepoTags\":[\"app:1\"]}]".getBytes(StandardCharsets.UTF_8);

    interface Entries {
        void write(TarArchiveOutputStream tar) throws Exception;
    }

    private static byte[] tar(int longFileMode, Entries entries) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            tar.setLongFileMode(longFileMode);
            entries.write(tar);
        }
        return out.toByteArray();
    }

    private static void file(TarArchiveOutputStream tar, String name, byte[] data) throws Exception {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(data.length);
        tar.putArchiveEntry(e);
        tar.write(data);
        tar.closeArchiveEntry();
    }

    /** Feeds the archive in pieces of the size; returns how many bytes went on. */
    private static int feed(TarWatch w, byte[] archive, int piece) {
        int passed = 0;
        for (int i = 0; i < archive.length; i += piece) {
            Buffer b = Buffer.buffer().appendBytes(archive, i, Math.min(piece, archive.length - i));
            int n = w.feed(b);
            assertThat(n).isBetween(0, b.length());
            if (passed < i) {
                assertThat(n).as("nothing passes once something was held").isZero();
            }
            passed += n;
        }
        return passed;
    }

    private static int contentEnd(byte[] archive) {
        // the end-of-archive marker: the first all-zero block at a header position (after the last entry's data)
        int end = archive.length;
        while (end >= 512) {
            boolean zero = true;
            for (int k = end - 512; k < end; k++) {
                zero &= archive[k] == 0;
            }
            if (!zero) {
                break;
            }
            end -= 512;
        }
        return end;
    }

    @Test
    void findsTheNamingFilesHoweverNamedAndHoldsFromTheMarkerInPiecesOfAnySize() throws Exception {
        String longDir = "a".repeat(120);
        byte[][] archives = {
            tar(TarArchiveOutputStream.LONGFILE_ERROR, t -> {
                file(t, "layer/layer.tar", new byte[1500]);
                file(t, "manifest.json", MANIFEST);
            }),
            tar(TarArchiveOutputStream.LONGFILE_POSIX, t -> {
                file(t, longDir + "/x", new byte[700]); // a PAX path before
                file(t, "./" + longDir + "/../manifest.json", MANIFEST); // a PAX path for the file itself
            }),
            tar(TarArchiveOutputStream.LONGFILE_GNU, t -> {
                file(t, longDir + "/y", new byte[10]);
                file(t, longDir + "/../manifest.json", MANIFEST);
            }),
        };
        for (byte[] archive : archives) {
            for (int piece : new int[] {1, 7, 511, 512, 513, 4096, archive.length}) {
                TarWatch w = new TarWatch();
                int passed = feed(w, archive, piece);
                assertThat(w.ended()).isTrue();
                // everything before the marker, and less than a block of it (a reader waits for a whole block)
                assertThat(passed).as("piece " + piece).isBetween(contentEnd(archive), contentEnd(archive) + 511);
                assertThat(w.naming()).containsOnlyKeys("manifest.json");
                assertThat(new String(w.naming().get("manifest.json"), StandardCharsets.UTF_8)).isEqualTo(new String(MANIFEST, StandardCharsets.UTF_8));
                assertThat(ImageRelay.archiveNames(w.naming())).containsExactly("app:1");
            }
        }
    }

    @Test
    void theLastOfSeveralIsKeptAndAnOldStyleDirectoryHasNoData() throws Exception {
        byte[] archive = tar(TarArchiveOutputStream.LONGFILE_ERROR, t -> {
            file(t, "manifest.json", "[]".getBytes(StandardCharsets.UTF_8));
            file(t, "repositories", "{\"web\":{\"2\":\"abc\"}}".getBytes(StandardCharsets.UTF_8));
            file(t, "manifest.json", MANIFEST);
        });
        TarWatch w = new TarWatch();
        feed(w, archive, 100);
        assertThat(ImageRelay.archiveNames(w.naming())).containsExactlyInAnyOrder("app:1", "web:2");

        // Go reads an old-style file entry whose name ends in "/" as a directory, without data: a size on it
        // must not make the reader skip the next header (which would hide a manifest from this daemon)
        byte[] dir = tar(TarArchiveOutputStream.LONGFILE_ERROR, t -> {
            TarArchiveEntry d = new TarArchiveEntry("d/", TarConstants.LF_OLDNORM);
            tar(d, t);
            file(t, "manifest.json", MANIFEST);
        });
        // set the directory's size field to 1024 and fix its checksum
        byte[] size = String.format("%011o", 1024).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(size, 0, dir, 124, 11);
        fixChecksum(dir, 0);
        TarWatch w2 = new TarWatch();
        feed(w2, dir, 512);
        assertThat(w2.naming()).containsKey("manifest.json");
    }

    private static void tar(TarArchiveEntry dir, TarArchiveOutputStream t) throws Exception {
        t.putArchiveEntry(dir);
        t.closeArchiveEntry();
    }

    private static void fixChecksum(byte[] b, int off) {
        long sum = 0;
        for (int k = 0; k < 512; k++) {
            sum += (k >= 148 && k < 156) ? ' ' : (b[off + k] & 0xff);
        }
        byte[] c = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(c, 0, b, off + 148, 8);
    }

    @Test
    void whatGoWouldReadOtherwiseIsRefused() throws Exception {
        byte[] plain = tar(TarArchiveOutputStream.LONGFILE_ERROR, t -> file(t, "manifest.json", MANIFEST));
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (var z = new java.util.zip.GZIPOutputStream(gz)) {
            z.write(plain);
        }
        byte[] link = tar(TarArchiveOutputStream.LONGFILE_ERROR, t -> {
            file(t, "evil.json", MANIFEST);
            TarArchiveEntry l = new TarArchiveEntry("manifest.json", TarConstants.LF_SYMLINK);
            l.setLinkName("evil.json");
            t.putArchiveEntry(l);
            t.closeArchiveEntry();
        });
        byte[] sparse = plain.clone();
        sparse[156] = 'S';
        fixChecksum(sparse, 0);
        // a tar whose first entry's name begins as a gzip stream does: the upstream would read it as gzip (a
        // gzip header's extra field can hold a whole tar, and the deflated rest be another archive)
        byte[] polyglot = tar(TarArchiveOutputStream.LONGFILE_ERROR, t -> file(t, "\u001f\u0000", new byte[1]));
        polyglot[0] = 0x1f;
        polyglot[1] = (byte) 0x8b;
        polyglot[2] = 8;
        fixChecksum(polyglot, 0);
        for (byte[] bad : new byte[][] {gz.toByteArray(), link, sparse, polyglot}) {
            assertThatThrownBy(() -> {
                TarWatch w = new TarWatch();
                feed(w, bad, 4096);
                w.finish();
            }).isInstanceOf(EngineException.class)
                    .hasMessageContaining("cannot read the archive as the upstream would");
        }
        assertThat(ImageRelay.archiveNames(Map.of())).isEmpty();
    }
}
