package io.dockgate.engine.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.engine.image.Image;
import io.dockgate.engine.image.ImageStore;
import io.dockgate.engine.image.Layer;
import io.dockgate.engine.image.Reference;
import io.dockgate.engine.testing.Root;
import io.dockgate.engine.testing.TestImages;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real overlayfs: shared lowerdirs, a private upperdir per snapshot, whiteouts, sizes, many layers. */
class SnapshotServiceTest {
    @TempDir
    Path tmp;
    private ImageStore images;
    private SnapshotService snapshots;

    @BeforeEach
    void setUp() throws Exception {
        Root.require();
        images = ImageStore.open(tmp.resolve("data"), 1L << 30);
        snapshots = new SnapshotService(tmp.resolve("data"), tmp.resolve("exec"));
    }

    @Test
    void twoContainersShareTheImageAndKeepTheirOwnChanges() throws Exception {
        Image image;
        try (InputStream in = Files.newInputStream(TestImages.busyboxTar(tmp))) {
            image = images.importRootfs(in, Optional.of(Reference.parse("bb")), "", List.of(), "amd64");
        }
        List<Layer> layers = images.layersOf(image);
        SnapshotService.Snapshot a = snapshots.prepare("a", layers);
        SnapshotService.Snapshot b = snapshots.prepare("b", layers);
        Path ma = snapshots.mount("a");
        Path mb = snapshots.mount("b");
        try {
            assertThat(SnapshotService.isMounted(ma)).isTrue();
            assertThat(ma.resolve("bin/busybox")).exists();
            Files.writeString(ma.resolve("tmp/only-in-a"), "hello");
            Files.delete(ma.resolve("etc/passwd"));
            assertThat(mb.resolve("tmp/only-in-a")).doesNotExist();
            assertThat(mb.resolve("etc/passwd")).exists();
            assertThat(layers.get(0).diff().resolve("etc/passwd")).as("the shared layer is untouched").exists();
            assertThat(a.upper().resolve("tmp/only-in-a")).hasContent("hello");
            assertThat(Files.getAttribute(a.upper().resolve("etc/passwd"), "unix:mode", LinkOption.NOFOLLOW_LINKS))
                    .as("a deletion is a whiteout in the upper layer").isEqualTo(0020000);
            assertThat(snapshots.writableSize("a")).isEqualTo(5);
            assertThat(snapshots.writableSize("b")).isZero();
        } finally {
            snapshots.unmount("a");
            snapshots.unmount("b");
        }
        assertThat(SnapshotService.isMounted(ma)).isFalse();
        snapshots.remove("a");
        snapshots.remove("b");
        assertThat(snapshots.get("a")).isEmpty();
        io.dockgate.engine.fs.Trash.drain(); // removed layers are deleted in the background
        assertThat(tmp.resolve("data/snapshots")).isEmptyDirectory();
    }

    @Test
    void imagesWithManyLayersMount() throws Exception {
        List<Layer> layers = new ArrayList<>();
        Layer parent = null;
        for (int i = 0; i < 120; i++) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
                byte[] content = ("layer " + i).getBytes();
                TarArchiveEntry e = new TarArchiveEntry("file-" + i, true);
                e.setSize(content.length);
                tar.putArchiveEntry(e);
                tar.write(content);
                tar.closeArchiveEntry();
            }
            parent = images.layers().apply(parent == null ? null : parent.chainId(), new ByteArrayInputStream(out.toByteArray()), null);
            layers.add(parent);
        }
        snapshots.prepare("many", layers);
        Path merged = snapshots.mount("many");
        try {
            assertThat(merged.resolve("file-0")).hasContent("layer 0");
            assertThat(merged.resolve("file-119")).hasContent("layer 119");
        } finally {
            snapshots.remove("many");
        }
    }
}
