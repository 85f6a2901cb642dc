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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Image tenancy in the store: names per namespace, holds, what each namespace reaches by name and by ID,
 * deletes and prunes that let go of what others still hold, shared common names, and the state kept
 * across a restart (and read from a store written before tenancy).
 */
class ImageNamespaceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ImageNamespace COMMON = ImageNamespace.COMMON;
    private static final ImageNamespace CAROL = ImageNamespace.of("tls:carol", r -> r.familiar().startsWith("busybox:"));
    private static final ImageNamespace DAVE = ImageNamespace.of("tls:dave", r -> r.familiar().startsWith("busybox:"));

    @TempDir
    Path tmp;
    private Path busybox;

    @BeforeEach
    void rootfs() throws Exception {
        busybox = TestImages.busyboxTar(tmp);
    }

    private ImageStore open() throws IOException {
        return ImageStore.open(tmp.resolve("root"), 1L << 30);
    }

    private static Image importInto(ImageStore store, ImageNamespace ns, Path tar, String ref, String label) throws IOException {
        try (InputStream in = Files.newInputStream(tar)) {
            return store.importRootfs(ns, in, Optional.of(Reference.parse(ref)), "", List.of("LABEL who=" + label), "amd64");
        }
    }

    private long layerCount() throws IOException {
        try (Stream<Path> s = Files.list(tmp.resolve("root").resolve("image").resolve("layers"))) {
            return s.count();
        }
    }

    private static void missing(Runnable r, String message) {
        assertThatThrownBy(r::run).isInstanceOf(EngineException.class).hasMessage(message)
                .satisfies(e -> assertThat(((EngineException) e).kind()).isEqualTo(ErrorKind.NOT_FOUND));
    }

    @Test
    void twoNamespacesHaveTheSameNamesForDifferentImagesAndReachOnlyTheirOwn() throws Exception {
        ImageStore store = open();
        Image common = importInto(store, COMMON, busybox, "busybox:latest", "admin");
        Image carols = importInto(store, CAROL, busybox, "app:1", "carol");
        Image daves = importInto(store, DAVE, busybox, "app:1", "dave");
        assertThat(carols.id()).isNotEqualTo(daves.id());
        assertThat(store.resolve(CAROL, "app:1").id()).isEqualTo(carols.id());
        assertThat(store.resolve(DAVE, "app:1").id()).isEqualTo(daves.id());
        missing(() -> store.resolve(COMMON, "app:1"), "No such image: app:1");
        // by ID and unique prefix: only what the namespace reaches; the common namespace reaches every image
        missing(() -> store.resolve(DAVE, carols.id().toString()), "No such image: " + carols.id());
        missing(() -> store.resolve(DAVE, carols.id().hex().substring(0, 12)), "No such image: " + carols.id().hex().substring(0, 12));
        assertThat(store.resolve(COMMON, carols.id().hex().substring(0, 12)).id()).isEqualTo(carols.id());
        // shared common names are seen and used, and their images reached by ID
        assertThat(store.resolve(CAROL, "busybox").id()).isEqualTo(common.id());
        assertThat(store.resolve(CAROL, common.id().hex().substring(0, 10)).id()).isEqualTo(common.id());
        assertThat(store.list(CAROL)).extracting(Image::id).containsExactlyInAnyOrder(carols.id(), common.id());
        assertThat(store.list(COMMON)).extracting(Image::id).containsExactly(common.id());
        assertThat(store.references(CAROL, common.id())).extracting(Reference::familiar).containsExactly("busybox:latest");
        assertThat(store.holders(carols.id())).containsExactly("tls:carol");

        // a tag onto "another's name" is a name of one's own: the other's stays as it was
        store.tag(DAVE, "busybox", "app", "1");
        assertThat(store.resolve(DAVE, "app:1").id()).isEqualTo(common.id());
        assertThat(store.resolve(CAROL, "app:1").id()).isEqualTo(carols.id());
        assertThat(store.holders(common.id())).containsExactlyInAnyOrder("", "tls:dave");
        assertThatThrownBy(() -> store.tag(DAVE, carols.id().toString(), "stolen", "1")).hasMessageContaining("No such image");

        // a shared name is not the tenant's to remove, nor is an image only shared with it
        assertThatThrownBy(() -> store.delete(CAROL, "busybox:latest", true, false))
                .satisfies(e -> assertThat(((EngineException) e).kind()).isEqualTo(ErrorKind.PERMISSION_DENIED));
        assertThatThrownBy(() -> store.delete(CAROL, common.id().toString(), true, false))
                .satisfies(e -> assertThat(((EngineException) e).kind()).isEqualTo(ErrorKind.PERMISSION_DENIED));
        missing(() -> {
            try {
                store.delete(CAROL, daves.id().toString(), true, false);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }, "No such image: " + daves.id());

        // dave's prune lets go of his dangling image (he moved app:1); carol's and the common one stay
        ImageStore.PruneResult pruned = store.prune(DAVE, false, i -> true);
        assertThat(pruned.deleted()).extracting(ImageStore.Deletion::deleted).contains(daves.id().toString());
        assertThat(store.list()).extracting(Image::id).containsExactlyInAnyOrder(common.id(), carols.id());
        // dave's rmi of his app:1 (the common image) only lets go of his hold
        store.delete(DAVE, "app:1", false, false);
        assertThat(store.resolve(COMMON, "busybox").id()).isEqualTo(common.id());
        assertThat(store.holders(common.id())).containsExactly("");
    }

    @Test
    void aLayerTwoNamespacesShareIsStoredOnceAndGoesWithTheLastHolder() throws Exception {
        ImageStore store = open();
        Image made = importInto(store, COMMON, busybox, "layered:1", "x");
        ByteArrayOutputStream archive = new ByteArrayOutputStream();
        store.save(List.of("layered:1"), archive);
        store.delete("layered:1", false, false);
        assertThat(layerCount()).isZero();
        store.load(CAROL, new ByteArrayInputStream(archive.toByteArray()), 1L << 30, m -> { });
        store.load(DAVE, new ByteArrayInputStream(archive.toByteArray()), 1L << 30, m -> { });
        assertThat(layerCount()).isEqualTo(1);
        assertThat(store.holders(made.id())).containsExactlyInAnyOrder("tls:carol", "tls:dave");
        missing(() -> store.resolve(COMMON, "layered:1"), "No such image: layered:1");

        List<ImageStore.Deletion> carols = store.delete(CAROL, "layered:1", false, false);
        assertThat(carols).extracting(ImageStore.Deletion::untagged).contains("layered:1");
        assertThat(carols).extracting(ImageStore.Deletion::deleted).containsOnly(null, made.id().toString()); // no layer went
        assertThat(layerCount()).isEqualTo(1);
        assertThat(store.resolve(DAVE, "layered:1").id()).isEqualTo(made.id());
        missing(() -> store.resolve(CAROL, "layered:1"), "No such image: layered:1");
        store.delete(DAVE, "layered:1", false, false);
        assertThat(layerCount()).isZero();
        assertThat(store.list()).isEmpty();
    }

    @Test
    void anImageATenantLetsGoOfWhileAContainerUsesItFallsToTheCommonNamespace() throws Exception {
        ImageStore store = open();
        Image carols = importInto(store, CAROL, busybox, "app:1", "carol");
        store.setUsage(id -> id.equals(carols.id()) ? List.of(new ImageStore.ImageUsage.User("d".repeat(64), false, "tls:dave"))
                : List.of());
        // the container is another owner's: carol is not told of it, and lets go of the image
        List<ImageStore.Deletion> done = store.delete(CAROL, "app:1", false, false);
        assertThat(done.toString()).doesNotContain("ddddddddddd");
        missing(() -> store.resolve(CAROL, carols.id().toString()), "No such image: " + carols.id());
        assertThat(store.list(COMMON)).extracting(Image::id).containsExactly(carols.id());
        // the common namespace's prune removes it once no container uses it
        store.setUsage(ImageStore.ImageUsage.NONE);
        store.prune(COMMON, false, i -> true);
        assertThat(store.list()).isEmpty();
    }

    @Test
    void theCommonNamespaceRemovesAnImageOnlyTenantsHoldWhenForced() throws Exception {
        ImageStore store = open();
        Image carols = importInto(store, CAROL, busybox, "app:1", "carol");
        assertThatThrownBy(() -> store.delete(COMMON, carols.id().toString(), false, false))
                .hasMessageContaining("must be forced) - image is held by other owners");
        store.delete(COMMON, carols.id().toString(), true, false);
        assertThat(store.list()).isEmpty();
        missing(() -> store.resolve(CAROL, "app:1"), "No such image: app:1");
    }

    @Test
    void namesAndHoldsOutliveARestartAndAStoreFromBeforeTenancyIsTheCommonNamespaces() throws Exception {
        ImageStore store = open();
        Image common = importInto(store, COMMON, busybox, "busybox:latest", "admin");
        Image carols = importInto(store, CAROL, busybox, "app:1", "carol");
        ImageStore again = open();
        assertThat(again.resolve(CAROL, "app:1").id()).isEqualTo(carols.id());
        missing(() -> again.resolve(DAVE, "app:1"), "No such image: app:1");
        assertThat(again.holders(carols.id())).containsExactly("tls:carol");

        // refs.json as written before tenancy: only "refs"; every image is the common namespace's
        Path refs = tmp.resolve("root").resolve("image").resolve("refs.json");
        ObjectNode old = JSON.createObjectNode();
        old.putObject("refs").put("docker.io/library/busybox:latest", common.id().toString());
        Files.write(refs, JSON.writeValueAsBytes(old));
        ImageStore upgraded = open();
        assertThat(upgraded.holders(common.id())).containsExactly("");
        assertThat(upgraded.holders(carols.id())).containsExactly("");
        assertThat(upgraded.list(COMMON)).hasSize(2);
        missing(() -> upgraded.resolve(CAROL, carols.id().toString()), "No such image: " + carols.id());
    }
}
