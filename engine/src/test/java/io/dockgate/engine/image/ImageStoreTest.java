package io.dockgate.engine.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.testing.TestImages;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image store: import, save/load round trip, tags and deletion as Docker does them, and every bad
 * archive refused with the store left exactly as it was.
 */
class ImageStoreTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    private Path busybox;

    @BeforeEach
    void rootfs() throws Exception {
        busybox = TestImages.busyboxTar(tmp);
    }

    private ImageStore open(String name) throws IOException {
        return ImageStore.open(tmp.resolve(name), 1L << 30);
    }

    private Image importBusybox(ImageStore store, String ref) throws IOException {
        try (InputStream in = Files.newInputStream(busybox)) {
            return store.importRootfs(in, Optional.of(Reference.parse(ref)), "", List.of("CMD [\"sh\"]"), "amd64");
        }
    }

    @Test
    void verifiedBlobsOfAnUnfinishedPullOutliveARestartForADayPartialOnesDoNot() throws IOException {
        open("blobs");
        Path blobs = tmp.resolve("blobs").resolve("image").resolve(Puller.BLOB_DIR);
        Path fresh = Files.writeString(blobs.resolve("a".repeat(64)), "verified");
        Path old = Files.writeString(blobs.resolve("b".repeat(64)), "verified long ago");
        Files.setLastModifiedTime(old, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(java.time.Duration.ofDays(2))));
        Path partial = Files.writeString(blobs.resolve("c".repeat(64) + ".partial-x"), "cut off");
        Path ownLink = Files.writeString(tmp.resolve("blobs").resolve("image").resolve("tmp").resolve("pull-x"), "a pull's own link");
        open("blobs");
        assertThat(fresh).exists();
        assertThat(old).doesNotExist();
        assertThat(partial).doesNotExist();
        assertThat(ownLink).doesNotExist();
    }

    @Test
    void importSaveLoadRoundTripKeepsIdsAndTags() throws Exception {
        ImageStore a = open("a");
        Image image = importBusybox(a, "busybox:1");
        a.tag("busybox:1", "example.com:5000/team/bb", "v2");
        ByteArrayOutputStream archive = new ByteArrayOutputStream();
        a.save(List.of("busybox:1", "example.com:5000/team/bb:v2"), archive);

        ImageStore b = open("b");
        List<String> messages = new ArrayList<>();
        List<Image> loaded = b.load(new ByteArrayInputStream(archive.toByteArray()), 1L << 30, messages::add);
        assertThat(loaded).extracting(Image::id).containsOnly(image.id());
        assertThat(messages).contains("Loaded image: busybox:1\n", "Loaded image: example.com:5000/team/bb:v2\n");
        assertThat(b.resolve("busybox:1").id()).isEqualTo(image.id());
        assertThat(b.resolve(image.id().hex().substring(0, 8)).id()).isEqualTo(image.id());
        assertThat(b.resolve("docker.io/library/busybox:1").runConfig().path("Cmd").get(0).asText()).isEqualTo("sh");

        // Reopening reads the same state back.
        ImageStore reopened = open("b");
        assertThat(reopened.references(image.id())).extracting(Reference::familiar)
                .containsExactlyInAnyOrder("busybox:1", "example.com:5000/team/bb:v2");
    }

    @Test
    void loadsOciLayoutArchivesWithoutManifestJsonAndZstdLayers() throws Exception {
        // An OCI image layout (index.json, blobs) as skopeo or buildkit write it, with a zstd layer.
        TestImages.run(List.of("zstd", "-q", "-k", "-f", busybox.toString()));
        byte[] layer = Files.readAllBytes(Path.of(busybox + ".zst"));
        Digest diffId = Digest.of(Files.readAllBytes(busybox));
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"]},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + diffId + "\"]}}").getBytes(StandardCharsets.UTF_8);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":"
                + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + Digest.of(config) + "\",\"size\":" + config.length
                + "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" + Digest.of(layer)
                + "\",\"size\":" + layer.length + "}]}").getBytes(StandardCharsets.UTF_8);
        byte[] index = ("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\""
                + Digest.of(manifest) + "\",\"size\":" + manifest.length + ",\"annotations\":{\"io.containerd.image.name\":"
                + "\"docker.io/library/oci:zstd\"}}]}").getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
        files.put("index.json", index);
        files.put("blobs/sha256/" + Digest.of(layer).hex(), layer);
        files.put("blobs/sha256/" + Digest.of(config).hex(), config);
        files.put("blobs/sha256/" + Digest.of(manifest).hex(), manifest);
        ImageStore store = open("oci");
        List<String> messages = new ArrayList<>();
        store.load(new ByteArrayInputStream(tarOf(files)), 1L << 30, messages::add);
        assertThat(messages).containsExactly("Loaded image: oci:zstd\n");
        assertThat(store.resolve("oci:zstd").id()).isEqualTo(Digest.of(config));
        assertThat(store.layersOf(store.resolve("oci:zstd")).get(0).diffId()).isEqualTo(diffId);
    }

    @Test
    void aStoredLayerNamedByItsDiffIdIsReusedUnderANewChainAndVerified() throws Exception {
        ImageStore store = open("reuse");
        Image base = importBusybox(store, "base");
        Digest busyboxDiff = base.diffIds().get(0);
        byte[] first = layerWith("first", "1".getBytes(StandardCharsets.UTF_8));
        byte[] busyboxTar = Files.readAllBytes(busybox);
        // Members named blobs/sha256/<DiffID>, as Docker 25+ writes them; busybox now sits on top of another layer.
        byte[] archive = archiveNamed(List.of(first, busyboxTar), "stacked:1");
        store.load(new ByteArrayInputStream(archive), 1L << 30, m -> { });
        Image stacked = store.resolve("stacked:1");
        List<Layer> layers = store.layersOf(stacked);
        assertThat(layers.get(1).diffId()).isEqualTo(busyboxDiff);
        assertThat(layers.get(1).chainId()).isNotEqualTo(busyboxDiff);
        assertThat(layers.get(1).diff().resolve("bin/busybox")).exists();
        ByteArrayOutputStream rebuilt = new ByteArrayOutputStream();
        store.layers().writeTar(layers.get(1), rebuilt);
        assertThat(Digest.of(rebuilt.toByteArray())).isEqualTo(busyboxDiff);

        // A member whose name promises the stored DiffID but whose content differs is refused.
        byte[] lying = archiveNamedAs(List.of(first), List.of("blobs/sha256/" + busyboxDiff.hex()), List.of(busyboxDiff.toString()), "lie:1");
        List<String> before = tree(tmp.resolve("reuse/image"));
        assertThatThrownBy(() -> {
            try {
                store.load(new ByteArrayInputStream(lying), 1L << 30, m -> { });
            } catch (IOException e) {
                throw ImageStore.failure(e);
            }
        }).hasMessageContaining("not the one its name says");
        assertThat(tree(tmp.resolve("reuse/image"))).isEqualTo(before);
    }

    private byte[] archiveNamed(List<byte[]> layers, String tag) throws IOException {
        List<String> names = new ArrayList<>();
        List<String> diffs = new ArrayList<>();
        for (byte[] l : layers) {
            names.add("blobs/sha256/" + Digest.of(l).hex());
            diffs.add(Digest.of(l).toString());
        }
        return archiveNamedAs(layers, names, diffs, tag);
    }

    private byte[] archiveNamedAs(List<byte[]> layers, List<String> names, List<String> diffIds, String tag) throws IOException {
        return archiveNamedAs(layers, names, diffIds, tag, null);
    }

    /** manifestLayers: what manifest.json lists (null: the member names). */
    private byte[] archiveNamedAs(List<byte[]> layers, List<String> names, List<String> diffIds, String tag,
                                  List<String> manifestLayers) throws IOException {
        ObjectNode config = JSON.createObjectNode();
        config.put("architecture", "amd64");
        config.put("os", "linux");
        ObjectNode rootfs = config.putObject("rootfs");
        rootfs.put("type", "layers");
        var ids = rootfs.putArray("diff_ids");
        diffIds.forEach(ids::add);
        byte[] configBytes = JSON.writeValueAsBytes(config);
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            files.put(names.get(i), layers.get(i));
        }
        files.put("blobs/sha256/" + Digest.of(configBytes).hex(), configBytes);
        var manifest = JSON.createArrayNode().addObject();
        manifest.put("Config", "blobs/sha256/" + Digest.of(configBytes).hex());
        manifest.putArray("RepoTags").add(tag);
        var ml = manifest.putArray("Layers");
        (manifestLayers != null ? manifestLayers : names).forEach(ml::add);
        files.put("manifest.json", JSON.writeValueAsBytes(JSON.createArrayNode().add(manifest)));
        return tarOf(files);
    }

    /** A tar of the given members, in order. */
    private static byte[] tarOf(Map<String, byte[]> files) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                TarArchiveEntry e = new TarArchiveEntry(f.getKey());
                e.setSize(f.getValue().length);
                tar.putArchiveEntry(e);
                tar.write(f.getValue());
                tar.closeArchiveEntry();
            }
        }
        return out.toByteArray();
    }

    @Test
    void deleteUntagsThenDeletesAndNeedsForceForIdsWithSeveralTags() throws Exception {
        ImageStore store = open("s");
        Image image = importBusybox(store, "one:latest");
        store.tag("one", "two", "");
        assertThatThrownBy(() -> store.delete(image.id().hex().substring(0, 12), false, false))
                .isInstanceOf(EngineException.class).hasMessageContaining("must be forced")
                .satisfies(e -> assertThat(((EngineException) e).kind()).isEqualTo(ErrorKind.CONFLICT));
        assertThat(store.delete("two", false, false)).containsExactly(new ImageStore.Deletion("two:latest", null));
        List<ImageStore.Deletion> last = store.delete("one", false, false);
        assertThat(last).contains(new ImageStore.Deletion("one:latest", null), new ImageStore.Deletion(null, image.id().toString()));
        assertThat(store.list()).isEmpty();
        assertThat(store.layers().all()).isEmpty();
        assertThatThrownBy(() -> store.resolve("one")).hasMessage("No such image: one");
    }

    @Test
    void imagesUsedByContainersAreProtected() throws Exception {
        ImageStore store = open("s");
        Image image = importBusybox(store, "used");
        store.setUsage(id -> id.equals(image.id()) ? List.of(new ImageStore.ImageUsage.User("c".repeat(64), true)) : List.of());
        assertThatThrownBy(() -> store.delete(image.id().toString(), true, false)).hasMessageContaining("cannot be forced")
                .hasMessageContaining("running container cccccccccccc");
        assertThatThrownBy(() -> store.delete("used", false, false)).hasMessage("conflict: unable to remove repository reference "
                + "\"used:latest\" (must force) - container cccccccccccc is using its referenced image " + image.id().shortId());
        assertThat(store.delete("used", true, false)).as("forced: untagged, kept for its container")
                .containsExactly(new ImageStore.Deletion("used:latest", null));
        assertThat(store.list()).extracting(Image::id).containsExactly(image.id());
        assertThat(store.prune(true, i -> true).deleted()).isEmpty();
    }

    @Test
    void invalidReferencesAreRefused() throws Exception {
        ImageStore store = open("s");
        importBusybox(store, "ok");
        assertThatThrownBy(() -> store.tag("ok", "UPPER", "tag")).hasMessageContaining("must be lowercase");
        assertThatThrownBy(() -> store.tag("ok", "a//b", "")).hasMessageContaining("invalid reference format");
        assertThatThrownBy(() -> store.tag("ok", "ok", "t".repeat(129))).hasMessageContaining("invalid reference format");
        assertThatThrownBy(() -> store.tag("ok", "ok", "-bad")).hasMessageContaining("invalid reference format");
        assertThat(store.references(store.resolve("ok").id())).hasSize(1);
    }

    // ---- bad archives

    /** A docker-archive with one image of the given layer tars; config diff_ids as given (or computed). */
    private byte[] archive(List<byte[]> layers, List<String> diffIds, String repoTag, Map<String, byte[]> extra,
                           boolean listLayersInManifest) throws IOException {
        List<String> names = new ArrayList<>();
        List<String> diffs = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            names.add("layer" + i + "/layer.tar");
            diffs.add(diffIds != null ? diffIds.get(i) : Digest.of(layers.get(i)).toString());
        }
        return archiveNamedAs(layers, names, diffs, repoTag, listLayersInManifest ? null : List.of("missing/layer.tar"));
    }

    private static byte[] layerWith(String name, byte[] content) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            TarArchiveEntry e = new TarArchiveEntry(name, true);
            e.setSize(content.length);
            tar.putArchiveEntry(e);
            tar.write(content);
            tar.closeArchiveEntry();
        }
        return out.toByteArray();
    }

    private static List<String> tree(Path root) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            return all.map(p -> root.relativize(p) + (Files.isRegularFile(p) ? ":" + p.toFile().length() : "")).sorted().toList();
        }
    }

    @Test
    void badArchivesAreRefusedAndLeaveTheStoreAsItWas() throws Exception {
        ImageStore store = ImageStore.open(tmp.resolve("s"), 4 << 20);
        importBusybox(store, "keep:me");
        List<String> before = tree(tmp.resolve("s/image"));
        byte[] good = layerWith("hello", "world".getBytes(StandardCharsets.UTF_8));
        byte[] valid = archive(List.of(good), null, "fine:1", Map.of(), true);

        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(gz)) {
            g.write(layerWith("bomb", new byte[8 << 20]));
        }
        Map<String, byte[]> cases = new LinkedHashMap<>();
        cases.put("truncated archive", java.util.Arrays.copyOf(valid, valid.length / 2 + 100));
        cases.put("escaping entry in a layer", archive(List.of(good, layerWith("../../etc/evil", new byte[1])), null, "x:1", Map.of(), true));
        cases.put("absolute entry in a layer", archive(List.of(layerWith("/etc/evil", new byte[1])), null, "x:1", Map.of(), true));
        cases.put("DiffID mismatch", archive(List.of(good), List.of(Digest.of(new byte[1]).toString()), "x:1", Map.of(), true));
        cases.put("manifest names a missing file", archive(List.of(good), null, "x:1", Map.of(), false));
        cases.put("decompression bomb", archive(List.of(gz.toByteArray()), List.of(Digest.of(layerWith("bomb", new byte[8 << 20])).toString()),
                "x:1", Map.of(), true));
        cases.put("invalid tag UPPER", archive(List.of(good), null, "UPPER:tag", Map.of(), true));
        cases.put("invalid tag a//b", archive(List.of(good), null, "a//b:1", Map.of(), true));
        cases.put("over-long tag", archive(List.of(good), null, "x:" + "t".repeat(200), Map.of(), true));
        cases.put("not a tar", "this is not a tar archive at all".repeat(40).getBytes(StandardCharsets.UTF_8));
        cases.put("empty", new byte[0]);
        for (Map.Entry<String, byte[]> c : cases.entrySet()) {
            assertThatThrownBy(() -> {
                try {
                    store.load(new ByteArrayInputStream(c.getValue()), 1L << 30, m -> { });
                } catch (IOException e) {
                    throw ImageStore.failure(e);
                }
            }).as(c.getKey()).isInstanceOf(EngineException.class)
                    .satisfies(e -> assertThat(((EngineException) e).kind()).as(c.getKey() + ": " + e.getMessage())
                            .isEqualTo(ErrorKind.INVALID_ARGUMENT));
            assertThat(tree(tmp.resolve("s/image"))).as("store unchanged after " + c.getKey()).isEqualTo(before);
        }
        assertThat(store.list()).hasSize(1);
        // and the good one loads
        store.load(new ByteArrayInputStream(valid), 1L << 30, m -> { });
        assertThat(store.resolve("fine:1")).isNotNull();
    }

    @Test
    void aFullDiskMidLoadLeavesNothingBehind() throws Exception {
        io.dockgate.engine.testing.Root.require();
        ImageStore source = open("src");
        importBusybox(source, "big:1");
        ByteArrayOutputStream archive = new ByteArrayOutputStream();
        source.save(List.of("big:1"), archive);
        Path small = Files.createDirectories(tmp.resolve("small"));
        io.dockgate.engine.sys.Syscalls.mount("tmpfs", small.toString(), "tmpfs", 0, "size=1m");
        try {
            ImageStore store = ImageStore.open(small, 1L << 30);
            List<String> before = tree(small.resolve("image"));
            assertThatThrownBy(() -> {
                try {
                    store.load(new ByteArrayInputStream(archive.toByteArray()), 1L << 30, m -> { });
                } catch (IOException e) {
                    throw ImageStore.failure(e);
                }
            }).isInstanceOf(EngineException.class).hasMessageContaining("no space left");
            assertThat(tree(small.resolve("image"))).isEqualTo(before);
        } finally {
            io.dockgate.engine.sys.Syscalls.umount(small.toString(), 0);
        }
    }

    @Test
    void openRepairsWhatACrashLeft() throws Exception {
        ImageStore store = open("s");
        Image image = importBusybox(store, "kept");
        Path image2 = tmp.resolve("s/image");
        // A configuration whose layer never arrived, a temp file, and a layer no image uses.
        byte[] orphanConfig = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]}}".formatted("ab".repeat(32)).getBytes();
        Files.write(image2.resolve("configs/" + Digest.of(orphanConfig).hex() + ".json"), orphanConfig);
        Files.writeString(image2.resolve("configs/.tmp123.json.tmp"), "partial");
        Files.createDirectories(image2.resolve("tmp/interrupted/diff"));
        ImageStore reopened = open("s");
        assertThat(reopened.list()).extracting(Image::id).containsExactly(image.id());
        assertThat(image2.resolve("configs/" + Digest.of(orphanConfig).hex() + ".json")).doesNotExist();
        assertThat(image2.resolve("configs/.tmp123.json.tmp")).doesNotExist();
        assertThat(image2.resolve("tmp/interrupted")).doesNotExist();
        assertThat(reopened.resolve("kept").id()).isEqualTo(image.id());
    }
}
