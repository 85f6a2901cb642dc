package io.dockgate.gateway.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.image.ImageNamespace;
import io.dockgate.engine.image.Reference;
import io.dockgate.gateway.request.DockerJson;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The record of upstream image names: who may make which name (own, free, shared and pulled, another's,
 * a common one), what a namespace sees, holding names shown to nobody scoped, and the record read back
 * after a restart.
 */
class UpstreamImagesTest {
    @TempDir
    Path dir;

    private static final String ID = "sha256:" + "a".repeat(64);

    private static JsonNode tags(String... t) {
        return DockerJson.MAPPER.valueToTree(List.of(t));
    }

    @Test
    void whoMayMakeWhichName() {
        UpstreamImages record = UpstreamImages.open(dir.resolve("images.json"));
        ImageNamespace carolNs = ImageNamespace.of("tls:carol", r -> r.canonical().startsWith("docker.io/"));
        UpstreamImages.View carol = record.view(carolNs);
        UpstreamImages.View dave = record.view(ImageNamespace.of("tls:dave", r -> false));
        UpstreamImages.View admin = record.view(ImageNamespace.COMMON);

        // a free name is the maker's; a shared one pulled stays common
        assertThat(carol.making("app:1", false, false).owner()).isEqualTo("tls:carol");
        assertThat(carol.making("busybox:latest", false, true).owner()).isEmpty();
        assertThat(carol.making("myapp:1", false, false).owner()).as("a tag under a shared pattern is one's own").isEqualTo("tls:carol");
        record.made("tls:carol", List.of("app:1"), ID);
        // another's name, or a common one that exists, is refused to a tenant; the administrators take any
        assertThat(dave.making("app:1", true, false).refusal()).contains("in use by another namespace");
        assertThat(dave.making("docker.io/library/app:1", true, true).refused()).isTrue();
        assertThat(dave.making("other:1", true, false).refused()).isTrue();
        assertThat(carol.making("busybox:latest", true, false).refusal()).contains("shared with you read-only");
        assertThat(carol.making("app:1", true, false).owner()).isEqualTo("tls:carol");
        assertThat(carol.making("dockgate/held:x", false, false).refused()).isTrue();
        assertThat(dave.making("not a name", false, false).refused()).isTrue();
        assertThat(admin.making("app:1", true, false).refused()).isFalse();

        // what each sees
        assertThat(carol.nameVisible("app:1")).isTrue();
        assertThat(carol.nameVisible("docker.io/library/app:1")).isTrue();
        assertThat(dave.nameVisible("app:1")).isFalse();
        assertThat(dave.imageVisible(ID, tags("app:1"))).isFalse();
        assertThat(carol.imageVisible(ID, tags())).as("held").isTrue();
        assertThat(carol.nameVisible("busybox:latest")).isTrue();
        assertThat(dave.nameVisible("busybox:latest")).isFalse();
        assertThat(carol.nameVisible("dockgate/held:" + "a".repeat(64))).isFalse();
        assertThat(carol.visibleTags(tags("app:1", "registry:5000/other:1", "dockgate/held:abc"))).containsExactly("app:1");

        // the administrators take the name back: common again, carol keeps the image by ID
        record.made("", List.of("app:1"), null);
        assertThat(carol.owns("app:1")).isFalse();
        assertThat(carol.holds(ID)).isTrue();
        assertThat(record.heldByOthers(ID, "tls:dave")).isTrue();
        record.letGo("tls:carol", ID);
        assertThat(carol.holds(ID)).isFalse();
        record.sync(); // written off the caller's thread: on disk before the directory goes
    }

    @Test
    void theRecordIsReadBackAfterARestart() {
        UpstreamImages record = UpstreamImages.open(dir.resolve("images.json"));
        record.made("tls:carol", List.of("app:1", "registry:5000/team/app:2"), ID);
        record.sync();
        UpstreamImages again = UpstreamImages.open(dir.resolve("images.json"));
        UpstreamImages.View carol = again.view(ImageNamespace.of("tls:carol", r -> false));
        assertThat(carol.owns("app:1")).isTrue();
        assertThat(carol.owns("registry:5000/team/app:2")).isTrue();
        assertThat(carol.holds(ID)).isTrue();
        assertThat(Reference.parse("app:1").withDefaultTag().canonical()).isEqualTo("docker.io/library/app:1");
    }
}
