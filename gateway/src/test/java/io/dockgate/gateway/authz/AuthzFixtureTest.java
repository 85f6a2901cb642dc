package io.dockgate.gateway.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.gateway.testing.AuthzFixture;
import io.dockgate.gateway.testing.DockerCli;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** One daemon with the test policy per test class (see {@link AuthzFixture}). */
abstract class AuthzFixtureTest {
    @TempDir
    static Path tmp;
    static AuthzFixture f;

    /** On a test class: its daemon guards a private dockerd (upstream mode) instead of running the embedded engine. */
    @java.lang.annotation.Retention(java.lang.annotation.RetentionPolicy.RUNTIME)
    @java.lang.annotation.Target(java.lang.annotation.ElementType.TYPE)
    @interface UpstreamMode {
    }

    @BeforeAll
    static void startFixture(org.junit.jupiter.api.TestInfo info) throws Exception {
        f = new AuthzFixture(tmp, info.getTestClass().map(c -> c.isAnnotationPresent(UpstreamMode.class)).orElse(false));
    }

    @AfterAll
    static void stopFixture() throws Exception {
        if (f != null) {
            f.close();
            f = null;
        }
    }

    /** A command that failed as Docker answers for an image that is not there (not as a refusal). */
    static void missingImage(DockerCli.Result r) {
        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).as(r.toString()).containsIgnoringCase("No such image");
        assertThat(r.stderr()).doesNotContain("authorization");
    }

    /**
     * An image with a layer of its own (a file no other image has) on the shared busybox, committed by an
     * identity ("root" for the administrator): imported rootfs tars made within one second are identical,
     * so their layers would be one. Returns its ID.
     */
    static String uniqueImage(String who, String ref) throws Exception {
        String[] run = {"run", "-d", "busybox", "sh", "-c", "echo " + java.util.UUID.randomUUID() + " > /unique"};
        String box = who.equals("root") ? f.root(run).stdout().trim() : f.ok(who, run);
        for (String[] cmd : new String[][] {{"wait", box}, {"commit", box, ref}, {"rm", box}}) {
            DockerCli.Result r = who.equals("root") ? f.root(cmd) : f.as(who, cmd);
            assertThat(r.exitCode()).as(r.toString()).isZero();
        }
        DockerCli.Result id = who.equals("root") ? f.root("image", "inspect", "-f", "{{.Id}}", ref) : f.as(who, "image", "inspect", "-f", "{{.Id}}", ref);
        return id.stdout().trim();
    }
}
