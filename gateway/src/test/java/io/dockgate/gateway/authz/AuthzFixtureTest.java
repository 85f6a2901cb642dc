package io.dockgate.gateway.authz;

import io.dockgate.gateway.testing.AuthzFixture;
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
}
