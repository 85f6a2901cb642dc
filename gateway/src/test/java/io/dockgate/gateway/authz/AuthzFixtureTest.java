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

    @BeforeAll
    static void startFixture() throws Exception {
        f = new AuthzFixture(tmp);
    }

    @AfterAll
    static void stopFixture() throws Exception {
        if (f != null) {
            f.close();
            f = null;
        }
    }
}
