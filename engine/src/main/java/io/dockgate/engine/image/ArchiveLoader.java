package io.dockgate.engine.image;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.EngineException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Reads a {@code docker save} archive in one pass. The members come in any order (layers usually before
 * manifest.json), so each layer member is unpacked as it streams by, into the batch as a detached layer
 * whose DiffID is computed on the way; small members (JSON) are kept in memory. When the manifest has
 * been read, the layers are placed in their chains and verified against the configurations' DiffIDs.
 * Every byte is written once. A layer member named by a DiffID the store already holds is only hashed to
 * confirm it, and copied from the stored layer if its chain turns out to be new.
 */
final class ArchiveLoader {
    private static final int SMALL = 16 << 20;

    /** One image of the archive, resolved. */
    record Loaded(byte[] config, List<Reference> tags, List<Digest> chain) {
    }

    private final LayerStore store;
    private final LayerStore.Batch batch;
    private final long maxBytes;
    private final Map<String, byte[]> small = new HashMap<>();
    private final Map<String, LayerStore.Detached> unpacked = new HashMap<>();
    private final Map<String, Digest> known = new HashMap<>();
    private final Map<String, String> failed = new HashMap<>();
    private final Map<String, String> links = new HashMap<>();

    ArchiveLoader(LayerStore store, LayerStore.Batch batch, long maxBytes) {
        this.store = store;
        this.batch = batch;
        this.maxBytes = maxBytes;
    }

    List<Loaded> load(InputStream raw) throws IOException {
        read(raw);
        return resolve();
    }

    private void read(InputStream raw) throws IOException {
        TarArchiveInputStream tar = new TarArchiveInputStream(LayerUnpacker.decompress(raw), StandardCharsets.UTF_8.name());
        long total = 0;
        boolean any = false;
        TarArchiveEntry entry;
        while ((entry = next(tar)) != null) {
            any = true;
            String name = clean(entry.getName());
            if (name.isEmpty() || entry.isDirectory()) {
                continue;
            }
            if (entry.isSymbolicLink() || entry.isLink()) {
                String target = entry.isSymbolicLink() && !entry.getLinkName().startsWith("/")
                        ? resolveRelative(name, entry.getLinkName()) : clean(entry.getLinkName());
                links.put(name, target);
                continue;
            }
            if (!entry.isFile()) {
                continue;
            }
            if (small.containsKey(name) || unpacked.containsKey(name) || known.containsKey(name) || failed.containsKey(name)) {
                throw new ArchiveReader.InvalidArchiveException("invalid archive: duplicate member " + name);
            }
            total += entry.getSize();
            if (total > maxBytes) {
                throw new ArchiveReader.InvalidArchiveException("invalid archive: it exceeds the limit of " + maxBytes + " bytes");
            }
            BufferedInputStream in = new BufferedInputStream(new EntryStream(tar, entry.getSize(), name), 1 << 16);
            in.mark(600);
            byte[] head = in.readNBytes(512);
            in.reset();
            if (!looksLikeLayer(head, entry.getSize())) {
                if (entry.getSize() > SMALL) {
                    throw new ArchiveReader.InvalidArchiveException("invalid archive: unexpected large member " + name);
                }
                small.put(name, in.readAllBytes());
                continue;
            }
            Digest hint = knownLayer(name);
            if (hint != null) {
                // The store has a layer with this DiffID: check the member really is it, without writing it.
                java.security.MessageDigest sha = Digest.sha256();
                try (InputStream plain = LayerUnpacker.decompress(new java.io.FilterInputStream(in) {
                    @Override
                    public void close() {
                    }
                })) {
                    byte[] buffer = new byte[1 << 16];
                    int n;
                    while ((n = plain.read(buffer)) > 0) {
                        sha.update(buffer, 0, n);
                    }
                }
                in.transferTo(OutputStream.nullOutputStream());
                Digest actual = Digest.of(sha);
                if (actual.equals(hint)) {
                    known.put(name, actual);
                } else {
                    failed.put(name, "layer " + name + " holds content with DiffID " + actual + ", not the one its name says");
                }
                continue;
            }
            try {
                unpacked.put(name, batch.unpackDetached(new java.io.FilterInputStream(in) {
                    @Override
                    public void close() {
                        // the tar stream goes on after this member
                    }
                }));
            } catch (LayerUnpacker.InvalidLayerException | TarSplit.LayerTooLargeException e) {
                if (e instanceof TarSplit.LayerTooLargeException) {
                    throw e;
                }
                failed.put(name, e.getMessage());
            }
            in.transferTo(OutputStream.nullOutputStream()); // what a decompressor left (padding), or a failed layer's rest
        }
        if (!any) {
            throw new ArchiveReader.InvalidArchiveException("invalid archive: empty or not a tar archive");
        }
    }

    /** The entry's bytes, counting what is left so a short entry is noticed. */
    private final class EntryStream extends InputStream {
        private final InputStream tar;
        private long remaining;
        private final String name;

        EntryStream(InputStream tar, long size, String name) {
            this.tar = tar;
            this.remaining = size;
            this.name = name;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int n = tar.read(b, off, (int) Math.min(len, remaining));
            if (n < 0) {
                throw new ArchiveReader.InvalidArchiveException("invalid archive: truncated member " + name);
            }
            remaining -= n;
            return n;
        }
    }

    /** A tar (ustar magic), or a gzip or zstd stream. */
    private static boolean looksLikeLayer(byte[] head, long size) {
        if (head.length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
            return true;
        }
        if (head.length >= 4 && (head[0] & 0xff) == 0x28 && (head[1] & 0xff) == 0xb5 && (head[2] & 0xff) == 0x2f && (head[3] & 0xff) == 0xfd) {
            return true;
        }
        if (head.length >= 262 && head[257] == 'u' && head[258] == 's' && head[259] == 't' && head[260] == 'a' && head[261] == 'r') {
            return true;
        }
        // An empty layer: 1024 (or more) zero bytes.
        if (size >= 1024 && head.length == 512) {
            for (byte b : head) {
                if (b != 0) {
                    return false;
                }
            }
            return true;
        }
        return false;
    }

    /**
     * The DiffID a member's name promises when the store already has a layer with it: Docker 25+ names
     * uncompressed layers {@code blobs/sha256/<DiffID>}; other tools use a DiffID directory. Null otherwise.
     */
    private Digest knownLayer(String name) throws IOException {
        for (String part : name.split("/")) {
            if (part.matches("[0-9a-f]{64}")) {
                Digest diff = new Digest(part);
                for (Layer l : store.all()) {
                    if (l.diffId().equals(diff)) {
                        return diff;
                    }
                }
            }
        }
        return null;
    }

    private List<Loaded> resolve() throws IOException {
        List<ArchiveReader.Entry> entries = entries();
        List<Loaded> result = new ArrayList<>();
        for (ArchiveReader.Entry entry : entries) {
            byte[] config = small.get(follow(entry.config()));
            if (config == null) {
                throw new ArchiveReader.InvalidArchiveException("invalid archive: the manifest names a missing file " + entry.config());
            }
            Image image = ImageStore.parse(Digest.of(config), config);
            if (image.diffIds().size() != entry.layers().size()) {
                throw EngineException.invalid("invalid archive: the manifest lists " + entry.layers().size()
                        + " layers but the configuration has " + image.diffIds().size() + " DiffIDs");
            }
            Digest parent = null;
            List<Digest> chain = new ArrayList<>();
            for (int i = 0; i < entry.layers().size(); i++) {
                String member = follow(entry.layers().get(i));
                Digest expected = image.diffIds().get(i);
                if (failed.containsKey(member)) {
                    throw new LayerUnpacker.InvalidLayerException(failed.get(member));
                }
                LayerStore.Detached d = unpacked.get(member);
                if (d != null) {
                    if (!d.diffId().equals(expected)) {
                        throw new LayerUnpacker.InvalidLayerException("layer DiffID mismatch: the configuration says " + expected
                                + " but the layer's content is " + d.diffId());
                    }
                    parent = batch.adopt(parent, d);
                } else if (known.containsKey(member)) {
                    if (!known.get(member).equals(expected)) {
                        throw new LayerUnpacker.InvalidLayerException("layer DiffID mismatch: the configuration says " + expected
                                + " but the layer's content is " + known.get(member));
                    }
                    parent = batch.adoptExisting(parent, expected);
                } else {
                    throw new ArchiveReader.InvalidArchiveException("invalid archive: the manifest names a missing file " + entry.layers().get(i));
                }
                chain.add(parent);
            }
            List<Reference> tags = new ArrayList<>();
            for (String tag : entry.repoTags()) {
                Reference ref = Reference.parse(tag);
                if (ref.digest() != null || ref.tag() == null) {
                    throw EngineException.invalid("invalid archive: RepoTags entry \"" + tag + "\" is not name:tag");
                }
                tags.add(ref);
            }
            result.add(new Loaded(config, tags, chain));
        }
        return result;
    }

    private List<ArchiveReader.Entry> entries() throws IOException {
        byte[] manifest = small.get("manifest.json");
        if (manifest != null) {
            return ArchiveReader.manifestEntries(json(manifest, "manifest.json"));
        }
        byte[] index = small.get("index.json");
        if (index != null) {
            List<ArchiveReader.Entry> entries = new ArrayList<>();
            readIndex(json(index, "index.json"), entries, 0);
            if (entries.isEmpty()) {
                throw new ArchiveReader.InvalidArchiveException("invalid archive: index.json lists no linux/amd64 image");
            }
            return entries;
        }
        throw new ArchiveReader.InvalidArchiveException("invalid archive: neither manifest.json nor index.json found");
    }

    private void readIndex(JsonNode index, List<ArchiveReader.Entry> entries, int depth) throws IOException {
        if (depth > 4) {
            throw new ArchiveReader.InvalidArchiveException("invalid archive: index nesting too deep");
        }
        for (JsonNode m : index.path("manifests")) {
            JsonNode platform = m.path("platform");
            if (!platform.isMissingNode() && !(platform.path("os").asText("linux").equals("linux")
                    && platform.path("architecture").asText("amd64").equals("amd64"))) {
                continue;
            }
            String blobName = "blobs/sha256/" + Digest.parse(m.path("digest").asText()).hex();
            byte[] blob = small.get(blobName);
            if (blob == null) {
                throw new ArchiveReader.InvalidArchiveException("invalid archive: the index names a missing file " + blobName);
            }
            JsonNode body = json(blob, blobName);
            String media = m.path("mediaType").asText();
            if (media.endsWith("image.index.v1+json") || media.endsWith("manifest.list.v2+json")) {
                readIndex(body, entries, depth + 1);
                continue;
            }
            String config = "blobs/sha256/" + Digest.parse(body.path("config").path("digest").asText()).hex();
            List<String> layers = new ArrayList<>();
            for (JsonNode l : body.path("layers")) {
                layers.add("blobs/sha256/" + Digest.parse(l.path("digest").asText()).hex());
            }
            List<String> tags = new ArrayList<>();
            String name = m.path("annotations").path("io.containerd.image.name").asText("");
            if (!name.isEmpty()) {
                tags.add(name);
            }
            entries.add(new ArchiveReader.Entry(config, layers, tags));
        }
    }

    private static JsonNode json(byte[] bytes, String what) throws IOException {
        try {
            return ImageStore.JSON.readTree(bytes);
        } catch (IOException e) {
            throw new ArchiveReader.InvalidArchiveException("invalid archive: " + what + " is not valid JSON");
        }
    }

    /** Follows the symlinks legacy archives use for duplicate layers (at most a few hops). */
    private String follow(String name) throws IOException {
        String current = clean(name);
        for (int i = 0; i < 8 && links.containsKey(current); i++) {
            current = links.get(current);
        }
        return current;
    }

    private static String resolveRelative(String from, String target) throws IOException {
        String dir = from.contains("/") ? from.substring(0, from.lastIndexOf('/')) : "";
        List<String> parts = new ArrayList<>();
        if (!dir.isEmpty()) {
            parts.addAll(List.of(dir.split("/")));
        }
        for (String p : target.split("/")) {
            if (p.equals("..")) {
                if (parts.isEmpty()) {
                    throw new ArchiveReader.InvalidArchiveException("invalid archive: link " + from + " leaves the archive");
                }
                parts.remove(parts.size() - 1);
            } else if (!p.isEmpty() && !p.equals(".")) {
                parts.add(p);
            }
        }
        return String.join("/", parts);
    }

    private static String clean(String name) throws IOException {
        try {
            return LayerUnpacker.clean(name);
        } catch (LayerUnpacker.InvalidLayerException e) {
            throw new ArchiveReader.InvalidArchiveException("invalid archive: " + e.getMessage());
        }
    }

    private static TarArchiveEntry next(TarArchiveInputStream tar) throws IOException {
        try {
            return tar.getNextEntry();
        } catch (IllegalArgumentException e) {
            throw new ArchiveReader.InvalidArchiveException("invalid archive: corrupt tar header");
        } catch (java.io.EOFException e) {
            throw new ArchiveReader.InvalidArchiveException("invalid archive: truncated");
        } catch (IOException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("Truncated") || m.contains("Corrupt") || m.contains("EOF") || m.contains("header") || m.contains("parse")) {
                throw new ArchiveReader.InvalidArchiveException("invalid archive: truncated or corrupt tar (" + m + ")");
            }
            throw e;
        }
    }
}
