package io.dockgate.engine.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.image.LayerUnpacker;
import io.dockgate.files.FileTrees;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The layer unpacker under a coverage-guided fuzzer: any bytes as a layer's tar either unpack or fail
 * with an I/O error (an invalid layer); never another exception, and never a byte written outside the
 * layer's directory, whatever its names, symbolic links and hard links say. The layer directory lies at
 * a fixed path so that seeds can aim absolute links at the canary beside it. Needs root (device nodes,
 * whiteouts), as the engine does.
 */
class LayerUnpackerFuzzTest {
    private static final Path BASE = Path.of("/tmp/dockgate-fuzz-layer");
    private static final Path ROOT = BASE.resolve("root");
    private static final Path CANARY = BASE.resolve("canary");

    @FuzzTest(maxDuration = "45s")
    void layers(FuzzedDataProvider data) throws IOException {
        if (!"root".equals(System.getProperty("user.name"))) {
            return; // mknod and trusted.* xattrs need root; CI runs as root
        }
        byte[] tar = data.consumeRemainingAsBytes();
        FileTrees.delete(BASE);
        Files.createDirectories(CANARY);
        Files.writeString(CANARY.resolve("keep"), "canary");
        try {
            LayerUnpacker.unpack(new ByteArrayInputStream(tar), ROOT, new ByteArrayOutputStream(), 1 << 20);
        } catch (IOException | EngineException e) {
            // an invalid layer
        }
        try (Stream<Path> beside = Files.list(BASE)) {
            assertThat(beside.map(p -> p.getFileName().toString()).sorted().toList()).as("nothing beside the layer")
                    .isEqualTo(List.of("canary", "root"));
        }
        try (Stream<Path> canary = Files.list(CANARY)) {
            assertThat(canary.toList()).as("nothing written through a link").containsExactly(CANARY.resolve("keep"));
        }
        assertThat(Files.readString(CANARY.resolve("keep"), StandardCharsets.UTF_8)).isEqualTo("canary");
    }
}
