package io.dockgate.engine.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.files.AtomicFiles;
import io.dockgate.files.FileTrees;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
        try {
            // each unpack's directory (renamed into layers/ when whole) in a block group of its own (see Syscalls)
            io.dockgate.engine.sys.Syscalls.markTopDirectory(tmp.toString());
        } catch (IOException | RuntimeException | LinkageError e) {
            LOG.debug("could not mark {} as a top directory: {}", tmp, e.toString());
        }
    }

    /** Removes unfinished unpacks and layers without metadata (left by a crash). */
    public void recover() throws IOException {
        try (Stream<Path> leftovers = Files.list(tmp)) {
            for (Path p : leftovers.toList()) {
                LOG.info("removing unfinished unpack {}", p.getFileName());
                FileTrees.delete(p);
            }
        }
        try (Stream<Path> all = Files.list(layers)) {
            for (Path p : all.toList()) {
                if (!Files.exists(p.resolve("layer.json"))) {
                    LOG.warn("removing incomplete layer {}", p.getFileName());
                    FileTrees.delete(p);
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

    /** Starts a batch: the layers of one load, import or pull, published together. */
    public Batch batch() {
        return new Batch();
    }

    /**
     * Layers unpacked for one operation. Each is unpacked and verified in {@code image/tmp/}; {@link #commit}
     * flushes the filesystem once (syncfs), then writes each layer's metadata and renames it into place, so
     * a published layer is always complete on disk. Closing an uncommitted batch deletes its work.
     */
    public final class Batch implements AutoCloseable {
        private final Map<Digest, Pending> pending = new LinkedHashMap<>();
        private final List<Detached> detached = java.util.Collections.synchronizedList(new ArrayList<>()); // unpacked concurrently
        private boolean committed;

        private record Pending(Digest chainId, Digest diffId, Digest parent, long tarSize, long diskSize, Path work) {
        }

        /** True when the store or this batch already holds the chain. */
        public boolean has(Digest chainId) {
            return pending.containsKey(chainId) || get(chainId).isPresent();
        }

        /**
         * Unpacks a layer on top of parent (null for a base layer) and returns its ChainID. When
         * expectedDiffId is given and the chain already exists, nothing is unpacked (layers are shared);
         * when it does not match what the stream holds, the batch fails.
         *
         * @param compressed the layer blob (plain tar, gzip or zstd)
         */
        public Digest apply(Digest parent, InputStream compressed, Digest expectedDiffId) throws IOException {
            if (expectedDiffId != null && has(Digest.chain(parent, expectedDiffId))) {
                return Digest.chain(parent, expectedDiffId);
            }
            Detached d = unpackDetached(compressed);
            if (expectedDiffId != null && !expectedDiffId.equals(d.diffId())) {
                throw new LayerUnpacker.InvalidLayerException("layer DiffID mismatch: the configuration says " + expectedDiffId
                        + " but the layer's content is " + d.diffId());
            }
            return adopt(parent, d);
        }

        /**
         * Unpacks a layer whose place in a chain is not known yet (an archive member read before the
         * manifest); {@link #adopt} places it later. Unadopted ones are deleted when the batch closes.
         */
        public Detached unpackDetached(InputStream compressed) throws IOException {
            Path work = tmp.resolve(UUID.randomUUID().toString());
            Files.createDirectory(work);
            try {
                LayerUnpacker.Result result;
                try (OutputStream split = Files.newOutputStream(work.resolve("tar-split.gz"))) {
                    result = LayerUnpacker.unpack(LayerUnpacker.decompress(compressed), work.resolve("diff"), split, maxLayerBytes);
                }
                // the files' bytes as unpacked (a hardlink's once): no second walk of the tree
                Detached d = new Detached(result.diffId(), result.tarSize(), result.contentSize(), work);
                detached.add(d);
                return d;
            } catch (IOException | RuntimeException e) {
                FileTrees.delete(work);
                throw e;
            }
        }

        /** Places a detached layer on top of parent; returns the ChainID (an existing chain is shared). */
        public Digest adopt(Digest parent, Detached d) throws IOException {
            Digest chainId = Digest.chain(parent, d.diffId());
            if (!has(chainId)) {
                // The same member may be adopted at several places (one DiffID twice in a chain): commit copies it.
                pending.put(chainId, new Pending(chainId, d.diffId(), parent, d.tarSize(), d.diskSize(), d.work()));
            }
            return chainId;
        }

        /**
         * Places on top of parent a layer whose content the store already holds under another chain (same
         * DiffID): the stored files are copied. Returns the ChainID.
         */
        public Digest adoptExisting(Digest parent, Digest diffId) throws IOException {
            Digest chainId = Digest.chain(parent, diffId);
            if (has(chainId)) {
                return chainId;
            }
            Layer source = all().stream().filter(l -> l.diffId().equals(diffId)).findFirst()
                    .orElseThrow(() -> new IOException("no stored layer with DiffID " + diffId));
            Path work = tmp.resolve(UUID.randomUUID().toString());
            copyTree(source.directory(), work);
            Files.deleteIfExists(work.resolve("layer.json"));
            detached.add(new Detached(diffId, source.tarSize(), source.diskSize(), work));
            pending.put(chainId, new Pending(chainId, diffId, parent, source.tarSize(), source.diskSize(), work));
            return chainId;
        }

        /** Publishes every pending layer; returns them. */
        public List<Layer> commit() throws IOException {
            List<Layer> result = new ArrayList<>();
            if (!pending.isEmpty()) {
                // The layers' files reach the disk before any of them is published.
                io.dockgate.engine.sys.Syscalls.syncfs(tmp.toString());
            }
            Map<Path, Path> published = new java.util.HashMap<>();
            for (Pending p : pending.values()) {
                Path work = p.work();
                if (published.containsKey(work)) {
                    Path copy = tmp.resolve(UUID.randomUUID().toString());
                    copyTree(published.get(work), copy);
                    Files.deleteIfExists(copy.resolve("layer.json"));
                    work = copy;
                }
                ObjectNode meta = JSON.createObjectNode();
                meta.put("chainId", p.chainId().toString());
                meta.put("diffId", p.diffId().toString());
                if (p.parent() != null) {
                    meta.put("parent", p.parent().toString());
                }
                meta.put("tarSize", p.tarSize());
                meta.put("diskSize", p.diskSize());
                AtomicFiles.write(work.resolve("layer.json"), JSON.writeValueAsBytes(meta), AtomicFiles.PUBLIC);
                Path target = layers.resolve(p.chainId().hex());
                if (Files.exists(target.resolve("layer.json"))) {
                    FileTrees.delete(work);
                    published.put(p.work(), target);
                } else {
                    FileTrees.delete(target); // a directory without metadata is a leftover
                    Files.move(work, target, StandardCopyOption.ATOMIC_MOVE);
                    published.put(p.work(), target);
                }
                result.add(get(p.chainId()).orElseThrow());
            }
            committed = true;
            pending.clear();
            return result;
        }

        @Override
        public void close() throws IOException {
            if (!committed) {
                for (Pending p : pending.values()) {
                    FileTrees.delete(p.work());
                }
                pending.clear();
            }
            for (Detached d : detached) {
                FileTrees.delete(d.work());
            }
            detached.clear();
        }
    }

    /** cp -a: owners, modes, times, device nodes, hardlinks and xattrs (overlay whiteouts) preserved. */
    private static void copyTree(Path from, Path to) throws IOException {
        Process p = new ProcessBuilder("cp", "-a", from.toString(), to.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                throw new IOException("cannot copy layer " + from + ": " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        }
    }

    /** A layer unpacked before its position in a chain was known. */
    public record Detached(Digest diffId, long tarSize, long diskSize, Path work) {
    }

    /** Unpacks and publishes one layer (a batch of one). */
    public Layer apply(Digest parent, InputStream compressed, Digest expectedDiffId) throws IOException {
        try (Batch batch = batch()) {
            Digest chain = batch.apply(parent, compressed, expectedDiffId);
            batch.commit();
            return get(chain).orElseThrow();
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
        FileTrees.delete(doomed);
    }
}
