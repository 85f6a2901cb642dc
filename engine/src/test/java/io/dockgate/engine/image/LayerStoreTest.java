package io.dockgate.engine.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dockgate.engine.sys.Syscalls;
import io.dockgate.engine.testing.TestImages;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unpacking layers: fidelity (byte-exact tar rebuild), whiteouts, sharing, and every refused input. */
class LayerStoreTest {
    @TempDir
    Path tmp;

    private LayerStore store(long limit) throws IOException {
        return new LayerStore(tmp.resolve("image"), limit);
    }

    @Test
    void unpacksHappenInADirectoryMarkedAsATopDirectoryWhereTheFilesystemHasTheFlag() throws Exception {
        store(1L << 30);
        Path tmpDir = tmp.resolve("image").resolve("tmp");
        Process lsattr = new ProcessBuilder("lsattr", "-d", tmpDir.toString()).redirectErrorStream(true).start();
        String out = new String(lsattr.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        boolean extAttributes = lsattr.waitFor() == 0;
        // where the filesystem has the flag it is set; where it has none, marking says so and nothing fails
        org.assertj.core.api.Assertions.assertThat(io.dockgate.engine.sys.Syscalls.markTopDirectory(tmpDir.toString())).as(out)
                .isEqualTo(extAttributes);
        if (extAttributes) {
            org.assertj.core.api.Assertions.assertThat(out.split(" ")[0]).as(out).contains("T");
        }
    }

    @Test
    void unpacksGnuTarAndRebuildsItByteForByteInAllCompressions() throws Exception {
        Path tar = TestImages.busyboxTar(tmp);
        Digest expected = Digest.of(Files.readAllBytes(tar));
        TestImages.run(List.of("gzip", "-k", tar.toString()));
        TestImages.run(List.of("zstd", "-q", "-k", tar.toString()));
        LayerStore store = store(1L << 30);
        Layer layer;
        try (InputStream in = Files.newInputStream(Path.of(tar + ".gz"))) {
            layer = store.apply(null, in, expected);
        }
        assertThat(layer.diffId()).isEqualTo(expected);
        assertThat(layer.chainId()).isEqualTo(expected);
        assertThat(layer.tarSize()).isEqualTo(Files.size(tar));
        assertThat(Files.isSymbolicLink(layer.diff().resolve("bin/sh"))).isTrue();
        assertThat(Files.readSymbolicLink(layer.diff().resolve("bin/sh"))).isEqualTo(Path.of("busybox"));
        assertThat(Files.isExecutable(layer.diff().resolve("bin/busybox"))).isTrue();
        assertThat(Files.getPosixFilePermissions(layer.diff().resolve("tmp")).size()).isEqualTo(9);
        ByteArrayOutputStream rebuilt = new ByteArrayOutputStream();
        store.writeTar(layer, rebuilt);
        assertThat(Digest.of(rebuilt.toByteArray())).isEqualTo(expected);

        // The same layer again is shared, not unpacked twice.
        try (InputStream in = Files.newInputStream(tar)) {
            assertThat(store.apply(null, in, expected).directory()).isEqualTo(layer.directory());
        }
        assertThat(store.all()).hasSize(1);
        LayerStore other = new LayerStore(tmp.resolve("image2"), 1L << 30);
        try (InputStream in = Files.newInputStream(Path.of(tar + ".zst"))) {
            assertThat(other.apply(null, in, null).diffId()).isEqualTo(expected);
        }
    }

    @Test
    void appliesWhiteoutsAndOpaqueDirectoriesForOverlay() throws Exception {
        byte[] tar = tarOf(
                dir("etc/"), file("etc/.wh.passwd", ""), dir("var/"), dir("var/cache/"), file("var/cache/.wh..wh..opq", ""),
                file("var/cache/new", "x"));
        Layer layer = store(1L << 20).apply(Digest.of("parent".getBytes()), new java.io.ByteArrayInputStream(tar), null);
        Path whiteout = layer.diff().resolve("etc/passwd");
        assertThat(Files.getAttribute(whiteout, "unix:mode", LinkOption.NOFOLLOW_LINKS)).isEqualTo(0020000);
        assertThat(Files.getAttribute(whiteout, "unix:rdev", LinkOption.NOFOLLOW_LINKS)).isEqualTo(0L);
        assertThat(Syscalls.lgetxattr(layer.diff().resolve("var/cache").toString(), "trusted.overlay.opaque")).containsExactly('y');
        assertThat(layer.diff().resolve("var/cache/new")).hasContent("x");
        assertThat(layer.parent()).isNotNull();
        ByteArrayOutputStream rebuilt = new ByteArrayOutputStream();
        store(1L << 20).writeTar(layer, rebuilt);
        assertThat(rebuilt.toByteArray()).isEqualTo(tar);
    }

    @Test
    void refusesBadLayersAndLeavesNothingBehind() throws Exception {
        LayerStore store = store(64 * 1024);
        List<byte[]> bad = List.of(
                tarOf(file("../escape", "x")),
                tarOf(file("/etc/absolute", "x")),
                tarOf(dir("a/"), file("a/../../x", "x")),
                tarOf(symlink("link", "../../etc"), file("ok", "x")),
                tarOf(symlink("sub", "/etc"), file("sub/passwd", "owned")),
                // a directory made for an earlier entry cannot become a symlink or a file later (verified directories are not re-checked)
                tarOf(file("made/x", "1"), symlink("made", "/etc"), file("made/passwd", "owned")),
                tarOf(file("made/deep/x", "1"), file("made/deep", "f"), file("made/deep/y", "2")),
                tarOf(file("made/x", "1"), hardlink("made", "made/x"), file("made/passwd", "owned")),
                tarOf(file("target", "x"), hardlink("hl", "../outside")),
                tarOf(hardlink("hl", "missing")),
                tarOf(file("dup", "1"), file("dup", "2")),
                tarOf(file("big", "y".repeat(100 * 1024))),
                truncated(tarOf(file("f", "z".repeat(10_000)))),
                new byte[0]);
        for (byte[] tar : bad) {
            assertThatThrownBy(() -> store.apply(null, new java.io.ByteArrayInputStream(tar), null))
                    .isInstanceOf(IOException.class);
        }
        assertThat(store.all()).isEmpty();
        try (Stream<Path> left = Files.list(tmp.resolve("image/tmp"))) {
            assertThat(left).isEmpty();
        }
        assertThat(tmp.resolve("etc")).doesNotExist();
        assertThat(Path.of("/etc/passwd")).content().doesNotContain("owned");
    }

    @Test
    void refusesADiffIdMismatch() throws Exception {
        LayerStore store = store(1L << 20);
        byte[] tar = tarOf(file("a", "1"));
        assertThatThrownBy(() -> store.apply(null, new java.io.ByteArrayInputStream(tar), Digest.of("other".getBytes())))
                .hasMessageContaining("DiffID mismatch");
        assertThat(store.all()).isEmpty();
    }

    @Test
    void recoverRemovesWhatACrashLeft() throws Exception {
        LayerStore store = store(1L << 20);
        Files.createDirectories(tmp.resolve("image/tmp/half-unpacked/diff"));
        Files.createDirectories(tmp.resolve("image/layers/" + Digest.of("x".getBytes()).hex() + "/diff"));
        store.recover();
        assertThat(tmp.resolve("image/tmp/half-unpacked")).doesNotExist();
        assertThat(store.all()).isEmpty();
        try (Stream<Path> left = Files.list(tmp.resolve("image/layers"))) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void ownersAreKeptEvenWhereASetgidDirectoryWouldLendItsGroup() throws Exception {
        LayerStore store = store(64 * 1024);
        Entry owned = out -> {
            TarArchiveEntry e = new TarArchiveEntry("owned.txt", true);
            e.setSize(1);
            e.setMode(0100600);
            e.setUserId(1000);
            e.setGroupId(1001);
            out.putArchiveEntry(e);
            out.write('x');
            out.closeArchiveEntry();
        };
        Entry setgid = out -> {
            TarArchiveEntry e = new TarArchiveEntry("shared/");
            e.setMode(042775);
            e.setGroupId(1000);
            out.putArchiveEntry(e);
            out.closeArchiveEntry();
        };
        Layer layer = store.apply(null, new java.io.ByteArrayInputStream(tarOf(owned, file("root.txt", "r"), setgid,
                file("shared/rootfile", "y"))), null);
        Path diff = layer.diff();
        assertThat(Files.getAttribute(diff.resolve("owned.txt"), "unix:uid")).isEqualTo(1000);
        assertThat(Files.getAttribute(diff.resolve("owned.txt"), "unix:gid")).isEqualTo(1001);
        assertThat(Files.getAttribute(diff.resolve("root.txt"), "unix:gid")).isEqualTo(0);
        assertThat(Files.getAttribute(diff.resolve("shared"), "unix:gid")).isEqualTo(1000);
        assertThat(Files.getAttribute(diff.resolve("shared/rootfile"), "unix:gid")).as("0, as the tar says, not the directory's").isEqualTo(0);
    }

    @Test
    void everyModeIsKeptWhetherCreationGaveItOrAChmodHadTo() throws Exception {
        LayerStore store = store(64 * 1024);
        int[] modes = {0644, 0755, 0600, 0777, 0666, 04755, 02711, 0};
        List<Entry> entries = new java.util.ArrayList<>();
        for (int mode : modes) {
            entries.add(out -> {
                TarArchiveEntry e = new TarArchiveEntry("f" + Integer.toOctalString(mode), true);
                e.setSize(1);
                e.setMode(0100000 | mode);
                out.putArchiveEntry(e);
                out.write('m');
                out.closeArchiveEntry();
            });
            entries.add(out -> {
                TarArchiveEntry e = new TarArchiveEntry("d" + Integer.toOctalString(mode) + "/");
                e.setMode(040000 | mode);
                out.putArchiveEntry(e);
                out.closeArchiveEntry();
            });
        }
        Layer layer = store.apply(null, new java.io.ByteArrayInputStream(tarOf(entries.toArray(new Entry[0]))), null);
        for (int mode : modes) {
            assertThat((Integer) Files.getAttribute(layer.diff().resolve("f" + Integer.toOctalString(mode)), "unix:mode") & 07777)
                    .as("file %o", mode).isEqualTo(mode);
            assertThat((Integer) Files.getAttribute(layer.diff().resolve("d" + Integer.toOctalString(mode)), "unix:mode") & 07777)
                    .as("directory %o", mode).isEqualTo(mode);
        }
    }

    // --- building test tars ---

    interface Entry {
        void write(TarArchiveOutputStream out) throws IOException;
    }

    static Entry dir(String name) {
        return out -> {
            TarArchiveEntry e = new TarArchiveEntry(name);
            e.setMode(040755);
            out.putArchiveEntry(e);
            out.closeArchiveEntry();
        };
    }

    static Entry file(String name, String content) {
        return out -> {
            byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry e = new TarArchiveEntry(name, true);
            e.setSize(bytes.length);
            e.setMode(0100644);
            out.putArchiveEntry(e);
            out.write(bytes);
            out.closeArchiveEntry();
        };
    }

    static Entry symlink(String name, String target) {
        return out -> {
            TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
            e.setLinkName(target);
            out.putArchiveEntry(e);
            out.closeArchiveEntry();
        };
    }

    static Entry hardlink(String name, String target) {
        return out -> {
            TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_LINK);
            e.setLinkName(target);
            out.putArchiveEntry(e);
            out.closeArchiveEntry();
        };
    }

    static byte[] tarOf(Entry... entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Entry e : entries) {
                e.write(out);
            }
        }
        return bytes.toByteArray();
    }

    static byte[] truncated(byte[] tar) {
        return java.util.Arrays.copyOf(tar, 2048);
    }
}
