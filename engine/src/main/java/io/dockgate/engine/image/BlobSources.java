package io.dockgate.engine.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.dockgate.files.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the compressed blob of each layer is known to live, as dockerd's distribution metadata: per
 * DiffID, the blobs (digest, media type, size) a pull fetched or a push uploaded, with the registry and
 * repository that hold them. A push uses them to skip what a repository has and to mount from a sibling
 * repository instead of compressing and uploading again. One small file per DiffID, written by rename;
 * an unreadable one is treated as empty (it only saves work).
 */
final class BlobSources {
    /** The most sources kept per layer: the newest win. */
    private static final int MAX_PER_LAYER = 16;

    record Source(Digest digest, String mediaType, long size, String registry, String repository) {
    }

    private final Path dir;
    private final Path images;

    BlobSources(Path dir) throws IOException {
        this.dir = dir;
        this.images = dir.resolve("images");
        Files.createDirectories(images);
    }

    /** The manifest media type an image was pulled with, empty for images made or loaded here. */
    synchronized java.util.Optional<String> manifestType(Digest imageId) {
        Path f = images.resolve(imageId.hex());
        try {
            return Files.exists(f) ? java.util.Optional.of(Files.readString(f).strip()) : java.util.Optional.empty();
        } catch (IOException e) {
            return java.util.Optional.empty();
        }
    }

    synchronized void manifestType(Digest imageId, String mediaType) throws IOException {
        AtomicFiles.writeUnsynced(images.resolve(imageId.hex()), mediaType.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                AtomicFiles.PUBLIC);
    }

    /** Forgets what is known of layers and images the store no longer has (at start). */
    synchronized void retain(java.util.Set<Digest> diffIds, java.util.Set<Digest> imageIds) throws IOException {
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String name = f.getFileName().toString();
                if (!name.matches("[0-9a-f]{64}\\.json") || !diffIds.contains(new Digest(name.substring(0, 64)))) {
                    Files.deleteIfExists(f);
                }
            }
        }
        try (java.util.stream.Stream<Path> files = Files.list(images)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (!name.matches("[0-9a-f]{64}") || !imageIds.contains(new Digest(name))) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    synchronized List<Source> of(Digest diffId) {
        Path f = file(diffId);
        List<Source> out = new ArrayList<>();
        if (!Files.exists(f)) {
            return out;
        }
        try {
            for (JsonNode n : ImageStore.JSON.readTree(f.toFile())) {
                out.add(new Source(Digest.parse(n.path("digest").asText()), n.path("mediaType").asText(), n.path("size").asLong(),
                        n.path("registry").asText(), n.path("repository").asText()));
            }
        } catch (IOException | RuntimeException e) {
            return new ArrayList<>();
        }
        return out;
    }

    synchronized void add(Digest diffId, Source source) throws IOException {
        List<Source> all = of(diffId);
        all.removeIf(s -> s.digest().equals(source.digest()) && s.registry().equals(source.registry())
                && s.repository().equals(source.repository()));
        all.add(0, source);
        ArrayNode array = ImageStore.JSON.createArrayNode();
        for (Source s : all.subList(0, Math.min(all.size(), MAX_PER_LAYER))) {
            array.addObject().put("digest", s.digest().toString()).put("mediaType", s.mediaType()).put("size", s.size())
                    .put("registry", s.registry()).put("repository", s.repository());
        }
        AtomicFiles.writeUnsynced(file(diffId), ImageStore.JSON.writeValueAsBytes(array), AtomicFiles.PUBLIC);
    }

    private Path file(Digest diffId) {
        return dir.resolve(diffId.hex() + ".json");
    }
}
