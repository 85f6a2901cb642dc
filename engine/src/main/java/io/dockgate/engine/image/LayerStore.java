package io.dockgate.engine.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.config.files.AtomicFiles;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Unpacked layers under {@code <data-root>/image/layers/<chain-id>}: {@code diff/} (the files),
 * {@code tar-split.gz} (to rebuild the exact tar) and {@code layer.json}. A layer is unpacked into
 * {@code image/tmp/} and renamed into place only when complete and verified, so after a crash a layer is
 * either absent or whole; {@link #recover()} clears what a crash left.
 */
public final class LayerStore {
    private static final Logger LOG = LoggerFactory.getLogger(LayerStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path layers;
    private final Path tmp;
    private final long maxLayerBytes;

    public LayerStore(Path imageRoot, long maxLayerBytes) throws IOException {
        this.layers = imageRoot.resolve("layers");
        this.tmp = imageRoot.resolve("tmp");
        this.maxLayerBytes = maxLayerBytes;
        Files.createDirectories(layers);
        Files.createDirectories(tmp);
    }

    /** Removes unfinished unpacks and layers without metadata (left by a crash). */
    public void recover() throws IOException {
        try (Stream<Path> leftovers = Files.list(tmp)) {
            for (Path p : leftovers.toList()) {
                LOG.info("removing unfinished unpack {}", p.getFileName());
                deleteTree(p);
            }
        }
        try (Stream<Path> all = Files.list(layers)) {
            for (Path p : all.toList()) {
                if (!Files.exists(p.resolve("layer.json"))) {
                    LOG.warn("removing incomplete layer {}", p.getFileName());
                    deleteTree(p);
                }
            }
        }
    }

    public Optional<Layer> get(Digest chainId) {
        Path dir = layers.resolve(chainId.hex());
        Path meta = dir.resolve("layer.json");
        if (!Files.exists(meta)) {
            return Optional.empty();
        }
        try {
            JsonNode n = JSON.readTree(meta.toFile());
            Digest parent = n.hasNonNull("parent") ? Digest.parse(n.get("parent").asText()) : null;
            return Optional.of(new Layer(chainId, Digest.parse(n.get("diffId").asText()), parent,
                    n.get("tarSize").asLong(), n.get("diskSize").asLong(), dir));
        } catch (IOException | RuntimeException e) {
            throw new EngineException(ErrorKind.INTERNAL, "corrupt layer metadata " + meta + ": " + e.getMessage(), e);
        }
    }

    public List<Layer> all() throws IOException {
        List<Layer> result = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(layers)) {
            for (Path p : dirs.toList()) {
                get(new Digest(p.getFileName().toString())).ifPresent(result::add);
            }
        }
        return result;
    }

    /**
     * Unpacks a layer on top of parent (null for a base layer). When expectedDiffId is given and the
     * resulting chain already exists, nothing is unpacked (layers are shared); when it does not match
     * what the stream holds, nothing is kept and the load fails.
     *
     * @param compressed the layer blob (plain tar, gzip or zstd)
     */
    public Layer apply(Digest parent, InputStream compressed, Digest expectedDiffId) throws IOException {
        if (expectedDiffId != null) {
            Optional<Layer> existing = get(Digest.chain(parent, expectedDiffId));
            if (existing.isPresent()) {
                return existing.get();
            }
        }
        Path work = tmp.resolve(UUID.randomUUID().toString());
        Files.createDirectory(work);
        try {
            LayerUnpacker.Result result;
            try (OutputStream split = Files.newOutputStream(work.resolve("tar-split.gz"))) {
                result = LayerUnpacker.unpack(LayerUnpacker.decompress(compressed), work.resolve("diff"), split, maxLayerBytes);
            }
            if (expectedDiffId != null && !expectedDiffId.equals(result.diffId())) {
                throw new LayerUnpacker.InvalidLayerException("layer DiffID mismatch: the configuration says " + expectedDiffId
                        + " but the layer's content is " + result.diffId());
            }
            Digest chainId = Digest.chain(parent, result.diffId());
            long diskSize = diskUsage(work.resolve("diff"));
            ObjectNode meta = JSON.createObjectNode();
            meta.put("chainId", chainId.toString());
            meta.put("diffId", result.diffId().toString());
            if (parent != null) {
                meta.put("parent", parent.toString());
            }
            meta.put("tarSize", result.tarSize());
            meta.put("diskSize", diskSize);
            AtomicFiles.write(work.resolve("layer.json"), JSON.writeValueAsBytes(meta), AtomicFiles.PUBLIC);
            Path target = layers.resolve(chainId.hex());
            if (Files.exists(target.resolve("layer.json"))) {
                deleteTree(work); // the same layer is already there: share it
                return get(chainId).orElseThrow();
            }
            try {
                Files.move(work, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                if (!Files.exists(target.resolve("layer.json"))) {
                    throw e;
                }
                deleteTree(work); // unpacked concurrently: keep the first
            }
            return get(chainId).orElseThrow();
        } catch (IOException | RuntimeException e) {
            deleteTree(work);
            throw e;
        }
    }

    /** Writes the layer's exact tar; fails if the rebuilt stream does not hash to the DiffID. */
    public void writeTar(Layer layer, OutputStream out) throws IOException {
        Digest written = TarSplit.replay(layer.tarSplit(), layer.diff(), out);
        if (!written.equals(layer.diffId())) {
            throw new IOException("layer " + layer.chainId() + " no longer matches its DiffID (files changed on disk?)");
        }
    }

    public void remove(Layer layer) throws IOException {
        Path doomed = tmp.resolve("removing-" + layer.chainId().hex() + "-" + UUID.randomUUID());
        Files.move(layer.directory(), doomed, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(doomed);
    }

    static long diskUsage(Path dir) throws IOException {
        long[] total = {0};
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.isRegularFile()) {
                    total[0] += attrs.size();
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return total[0];
    }

    /** Deletes a tree without following symlinks. */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
