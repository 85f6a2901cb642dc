package io.dockgate.engine.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Fails (never skips) a test that needs root when it does not run as root. */
public final class Root {
    private Root() {
    }

    public static void require() {
        try {
            if (!Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"))) {
                throw new AssertionError("this test needs root (mounts, device nodes, ownership): run the suite as root");
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
