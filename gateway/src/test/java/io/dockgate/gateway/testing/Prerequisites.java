package io.dockgate.gateway.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Checks that fail a test with what to do, instead of skipping it, when the machine lacks something. */
public final class Prerequisites {
    private Prerequisites() {
    }

    /** The daemon manages sockets, groups and (later) containers as root; so do these tests. */
    public static void requireRoot() {
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            if (!Integer.valueOf(0).equals(uid)) {
                throw new AssertionError("this test needs root (uid 0, found " + uid + "): run the suite as root, e.g. sudo .ci/test");
            }
        } catch (IOException e) {
            throw new AssertionError("cannot determine the uid: " + e.getMessage(), e);
        }
    }
}
