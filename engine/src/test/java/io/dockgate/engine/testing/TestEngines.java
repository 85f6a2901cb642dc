package io.dockgate.engine.testing;

import io.dockgate.engine.Engine;
import io.dockgate.engine.image.Reference;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** An engine rooted in a test directory (data/ and exec/), as root, with busybox imported as "busybox". */
public final class TestEngines {
    private TestEngines() {
    }

    public static Engine withBusybox(Path dir) throws Exception {
        Root.require();
        for (String tool : List.of("runc", "conmon")) {
            if (Files.notExists(Path.of("/usr/sbin", tool)) && Files.notExists(Path.of("/usr/bin", tool))) {
                throw new AssertionError(tool + " is missing: apt-get install runc conmon (the setup script does this)");
            }
        }
        Engine engine = Engine.open(dir.resolve("data"), dir.resolve("exec"));
        try (InputStream in = Files.newInputStream(TestImages.busyboxTar(dir))) {
            engine.images().importRootfs(in, Optional.of(Reference.parse("busybox")), "", List.of("CMD [\"sh\"]"), "amd64");
        }
        return engine;
    }

    /** Force-removes every container, then closes the engine (null-safe, for tear-downs). */
    public static void removeAllAndClose(Engine engine) throws Exception {
        if (engine == null) {
            return;
        }
        var containers = engine.containers();
        for (var c : containers.list()) {
            containers.remove(c.id(), true);
        }
        engine.close();
    }
}
