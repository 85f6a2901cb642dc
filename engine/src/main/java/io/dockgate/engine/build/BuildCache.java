package io.dockgate.engine.build;

import io.dockgate.engine.EngineException;
import io.dockgate.engine.image.Image;
import io.dockgate.engine.image.ImageStore;
import io.dockgate.files.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The build cache: a step's key (its parent image, the instruction and everything it reads) names the
 * image the step made, one small file per key under {@code <data-root>/build/cache}; keys include the owner, so
 * that callers of different owners never share a step's image. An entry whose image
 * is gone is a miss. Keys only need to be consistent within dockgate.
 */
final class BuildCache {
    private final Path dir;

    BuildCache(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
    }

    static String key(String... parts) {
        MessageDigest d = io.dockgate.engine.image.Digest.sha256();
        for (String p : parts) {
            d.update(p.getBytes(StandardCharsets.UTF_8));
            d.update((byte) 0);
        }
        return HexFormat.of().formatHex(d.digest());
    }

    Optional<Image> find(String key, ImageStore images) throws IOException {
        Path f = dir.resolve(key);
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        try {
            return Optional.of(images.resolve(Files.readString(f).strip()));
        } catch (EngineException e) {
            return Optional.empty(); // the image was removed since
        }
    }

    void put(String key, Image image) throws IOException {
        AtomicFiles.writeUnsynced(dir.resolve(key), image.id().toString().getBytes(StandardCharsets.UTF_8), AtomicFiles.PRIVATE);
    }
}
