package io.dockgate.gateway.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.DockerCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Image tenancy through the docker CLI over mutual TLS: two tenants (carol, dave: scope own, busybox
 * shared) with the same image names for different images, each reaching only its own and the shared
 * ones, by name, ID or ID prefix; a layer both hold stored once and kept while one still uses it;
 * builds and commits in the builder's namespace; per-tenant lists, prune, df and events.
 */
class ImageTenancyTest extends AuthzFixtureTest {


    private static String importAs(String who, String ref, String label) throws Exception {
        Path dir = tmp.resolve("ctx-" + who + "-" + label);
        Files.createDirectories(dir);
        String tar = TestImages.busyboxTar(dir).toString();
        // the CLI reads the archive as the client: the tenant's own file, streamed in the body
        f.ok(who, "import", "-c", "LABEL who=" + label, "-c", "CMD [\"sh\"]", tar, ref);
        return f.ok(who, "image", "inspect", "-f", "{{.Id}}", ref);
    }


    private static long layers() throws Exception {
        try (Stream<Path> s = Files.list(tmp.resolve("data").resolve("image").resolve("layers"))) {
            return s.count();
        }
    }

    @Test
    void twoTenantsHaveTheSameNamesForTheirOwnImagesAndReachNothingOfTheOthers() throws Exception {
        String carols = importAs("carol", "app:1", "carol");
        String daves = importAs("dave", "app:1", "dave");
        assertThat(carols).isNotEqualTo(daves);
        assertThat(f.ok("carol", "inspect", "-f", "{{.Config.Labels.who}}", "app:1")).isEqualTo("carol");
        assertThat(f.ok("dave", "inspect", "-f", "{{.Config.Labels.who}}", "app:1")).isEqualTo("dave");
        assertThat(f.ok("carol", "run", "--rm", "app:1", "echo", "hi")).isEqualTo("hi");

        // lists: one's own and the shared busybox; other:1 (root's, not shared) and the other's are not there
        assertThat(f.ok("carol", "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").lines())
                .containsExactlyInAnyOrder("app:1 " + carols.substring(7, 19),
                        "busybox:latest " + f.root("image", "inspect", "-f", "{{.Id}}", "busybox").stdout().trim().substring(7, 19));
        // the administrator's namespace is dockerd's single one; a tenant's images are found by owner
        assertThat(f.root("images", "--format", "{{.Repository}}:{{.Tag}}").stdout()).doesNotContain("app:1");
        assertThat(f.root("images", "--filter", "owner=tls:dave", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout().trim())
                .isEqualTo("app:1 " + daves.substring(7, 19));

        // every way dave could name carol's image: by ID, by ID prefix, for run, tag, save, history, rmi, push
        for (String ref : new String[] {carols, carols.substring(7, 19), carols.substring(7, 12)}) {
            missingImage(f.as("dave", "image", "inspect", ref));
            missingImage(f.as("dave", "history", ref));
            missingImage(f.as("dave", "tag", ref, "stolen:1"));
            missingImage(f.as("dave", "save", "-o", tmp.resolve("stolen.tar").toString(), ref));
            missingImage(f.as("dave", "rmi", ref));
            missingImage(f.as("dave", "run", "--rm", "--pull", "never", ref, "true"));
            missingImage(f.as("dave", "create", "--pull", "never", ref));
        }
        assertThat(f.ok("carol", "inspect", "-f", "{{.Config.Labels.who}}", "app:1")).isEqualTo("carol");
        assertThat(f.root("ps", "-a", "--filter", "ancestor=" + carols, "-q").stdout()).as("no container of carol's image").isBlank();

        // a tag onto the other's name is a name of one's own; the other's stays as it was
        f.ok("dave", "tag", "busybox", "app:1");
        assertThat(f.ok("dave", "inspect", "-f", "{{.Config.Labels.who}}", "app:1")).isEqualTo("<no value>");
        assertThat(f.ok("carol", "inspect", "-f", "{{.Id}}", "app:1")).isEqualTo(carols);
        // dave's old app:1 is dangling in his namespace, and his prune removes it, nothing of carol's
        assertThat(f.ok("dave", "images", "--filter", "dangling=true", "-q", "--no-trunc")).isEqualTo(daves);
        assertThat(f.ok("dave", "image", "prune", "-f")).contains("deleted: " + daves);
        assertThat(f.ok("carol", "inspect", "-f", "{{.Id}}", "app:1")).isEqualTo(carols);
        missingImage(f.as("dave", "image", "inspect", daves));

        // pushing a repository dave has no tag of, though carol has: nothing to push (no registry is reached)
        f.ok("dave", "rmi", "app:1");
        DockerCli.Result push = f.as("dave", "push", "127.0.0.1:1/app:1");
        assertThat(push.exitCode()).isNotZero();
        assertThat(push.stderr()).contains("An image does not exist locally with the tag: 127.0.0.1:1/app");
        f.ok("carol", "tag", "app:1", "127.0.0.1:1/app:1");
        push = f.as("dave", "push", "127.0.0.1:1/app:1");
        assertThat(push.stderr()).contains("An image does not exist locally with the tag");

        // shared images are used, not removed; the administrator's busybox stays
        DockerCli.Result shared = f.as("dave", "rmi", "busybox");
        assertThat(shared.exitCode()).isNotZero();
        assertThat(shared.stderr()).contains("is shared with you by the authorization policy");
        f.ok("dave", "image", "prune", "-a", "-f");
        assertThat(f.root("image", "inspect", "-f", "{{.Id}}", "busybox").exitCode()).isZero();
        assertThat(f.ok("carol", "inspect", "-f", "{{.Id}}", "app:1")).isEqualTo(carols);

        // system df counts one's own images
        assertThat(f.ok("dave", "system", "df", "--format", "{{.Type}} {{.TotalCount}}").lines()).contains("Images 1");
        f.ok("carol", "rmi", "app:1", "127.0.0.1:1/app:1");
        missingImage(f.as("carol", "image", "inspect", carols));
    }

    @Test
    void aLayerBothHoldIsStoredOnceAndOutlivesOneTenantsDelete() throws Exception {
        Path archive = tmp.resolve("layered.tar");
        String id = uniqueImage("root", "layered:1");
        assertThat(f.root("save", "-o", archive.toString(), "layered:1").exitCode()).isZero();
        long before = layers();
        assertThat(f.root("rmi", "layered:1").exitCode()).isZero();
        assertThat(layers()).isEqualTo(before - 1);
        f.ok("carol", "load", "-i", archive.toString());
        f.ok("dave", "load", "-i", archive.toString());
        assertThat(layers()).isEqualTo(before);
        assertThat(f.ok("carol", "image", "inspect", "-f", "{{.Id}}", "layered:1")).isEqualTo(id);
        assertThat(f.ok("dave", "image", "inspect", "-f", "{{.Id}}", "layered:1")).isEqualTo(id);
        String running = f.ok("dave", "run", "-d", "layered:1", "sleep", "300");

        // carol's rmi lets go of her image; dave's, with its one layer, stays and runs
        assertThat(f.ok("carol", "rmi", "layered:1")).contains("Untagged: layered:1");
        missingImage(f.as("carol", "image", "inspect", "layered:1"));
        assertThat(layers()).isEqualTo(before);
        assertThat(f.ok("dave", "exec", running, "echo", "alive")).isEqualTo("alive");
        assertThat(f.ok("dave", "run", "--rm", "layered:1", "echo", "still")).isEqualTo("still");
        f.ok("dave", "rm", "-f", running);
        f.ok("dave", "rmi", "layered:1");
        assertThat(layers()).isEqualTo(before - 1);
    }

    @Test
    void pullsAndPushesHappenInTheCallersNamespace() throws Exception {
        try (io.dockgate.gateway.testing.Registry registry = io.dockgate.gateway.testing.Registry.start(tmp.resolve("registry"), null)) {
            String repo = registry.host() + "/team/app";
            String carols = uniqueImage("carol", repo + ":1");
            assertThat(f.ok("carol", "push", repo + ":1")).contains("1: digest: sha256:");
            assertThat(io.dockgate.gateway.testing.Registry.inspect("docker://" + repo + ":1").path("Layers").size()).isEqualTo(2);
            // dave pulls what carol pushed: the same image, stored once, his own name; carol's removal leaves it to him
            long before = layers();
            assertThat(f.ok("dave", "pull", repo + ":1")).contains("Downloaded newer image for " + repo + ":1");
            assertThat(layers()).isEqualTo(before);
            assertThat(f.ok("dave", "image", "inspect", "-f", "{{.Id}}", repo + ":1")).isEqualTo(carols);
            assertThat(f.ok("dave", "image", "inspect", "-f", "{{index .RepoDigests 0}}", repo + ":1")).startsWith(repo + "@sha256:");
            f.ok("carol", "rmi", repo + ":1");
            missingImage(f.as("carol", "image", "inspect", repo + ":1"));
            assertThat(f.ok("dave", "run", "--rm", repo + ":1", "echo", "pulled")).isEqualTo("pulled");
            // a pull by a tenant is not the administrator's name, and a tag of a name only the tenant has is not the admin's to push
            missingImage(f.root("image", "inspect", repo + ":1"));
            f.ok("dave", "rmi", repo + ":1");
            assertThat(layers()).isEqualTo(before - 1);
        }
    }

    @Test
    void buildsAndCommitsMakeImagesInTheCallersNamespaceAndEventsAreOnesOwn() throws Exception {
        String since = f.ok("carol", "version", "-f", "{{.Server.Os}}"); // warms the connection; events below use --since 0
        assertThat(since).isEqualTo("linux");
        Path context = Files.createDirectories(tmp.resolve("build-ctx"));
        Files.writeString(context.resolve("Dockerfile"), "FROM busybox\nRUN echo built > /made\nLABEL by=carol\n");
        DockerCli.Result built = f.as("carol", "build", "-q", "-t", "built:1", context.toString());
        assertThat(built.exitCode()).as(built.toString()).isZero();
        assertThat(f.ok("carol", "run", "--rm", "built:1", "cat", "/made")).isEqualTo("built");
        missingImage(f.as("dave", "image", "inspect", "built:1"));
        missingImage(f.as("dave", "image", "inspect", built.stdout().trim()));

        String box = f.ok("carol", "run", "-d", "busybox", "sh", "-c", "echo c > /c; sleep 300");
        f.ok("carol", "commit", box, "committed:1");
        assertThat(f.ok("carol", "run", "--rm", "committed:1", "cat", "/c")).isEqualTo("c");
        missingImage(f.as("dave", "image", "inspect", "committed:1"));
        f.ok("carol", "rm", "-f", box);

        String until = Long.toString(System.currentTimeMillis() / 1000 + 2); // a duration would mean "that long ago"
        String carolsEvents = f.ok("carol", "events", "--since", "0", "--until", until, "--filter", "type=image",
                "--format", "{{.Action}} {{.Actor.Attributes.name}}");
        assertThat(carolsEvents).contains("tag committed:1", "tag built:1");
        String davesEvents = f.ok("dave", "events", "--since", "0", "--until", until, "--filter", "type=image",
                "--format", "{{.Action}} {{.Actor.Attributes.name}}");
        assertThat(davesEvents).doesNotContain("built:1").doesNotContain("committed:1");
        f.ok("carol", "rmi", "built:1", "committed:1");
    }
}
