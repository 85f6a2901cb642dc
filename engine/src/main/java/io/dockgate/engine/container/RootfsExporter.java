package io.dockgate.engine.container;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;

/**
 * docker export: the container's merged root filesystem as a tar, with owners, modes, times, symlinks,
 * hardlinks and device nodes; sockets are skipped, symlinks are never followed.
 */
final class RootfsExporter {
    private RootfsExporter() {
    }

    static void write(Path root, OutputStream target) throws IOException {
        TreeTar.write(root, path -> path.equals(root) ? null : root.relativize(path).toString(), true, target);
    }
}
