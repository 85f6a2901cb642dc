package io.dockgate.engine.image;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Writes {@code docker save} archives as Docker 25+ does: an OCI image layout ({@code oci-layout},
 * {@code index.json}, {@code blobs/sha256/...}) plus {@code manifest.json}, which Docker 20.10 reads.
 * Layers are the exact original tars, rebuilt from the unpacked layers by {@link TarSplit}, so their
 * digests are the DiffIDs.
 */
final class ArchiveWriter {
    private static final String MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";

    /** One image to write, with the tags to record for it. */
    record Item(Image image, List<Layer> layers, List<Reference> tags) {
    }

    private final LayerStore store;

    ArchiveWriter(LayerStore store) {
        this.store = store;
    }

    void write(List<Item> items, OutputStream target) throws IOException {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(new FilterOutputStream(target) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                flush();
            }
        });
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        directory(tar, "blobs/");
        directory(tar, "blobs/sha256/");
        Set<Digest> written = new HashSet<>();
        ArrayNode manifestJson = ImageStore.JSON.createArrayNode();
        ObjectNode index = ImageStore.JSON.createObjectNode();
        index.put("schemaVersion", 2);
        index.put("mediaType", "application/vnd.oci.image.index.v1+json");
        ArrayNode indexManifests = index.putArray("manifests");
        for (Item item : items) {
            ObjectNode manifest = ImageStore.JSON.createObjectNode();
            manifest.put("schemaVersion", 2);
            manifest.put("mediaType", MANIFEST_TYPE);
            ObjectNode config = manifest.putObject("config");
            config.put("mediaType", "application/vnd.oci.image.config.v1+json");
            config.put("digest", item.image().id().toString());
            config.put("size", item.image().configBytes().length);
            ArrayNode layers = manifest.putArray("layers");
            ObjectNode entry = manifestJson.addObject();
            entry.put("Config", "blobs/sha256/" + item.image().id().hex());
            if (item.tags().isEmpty()) {
                entry.putNull("RepoTags");
            } else {
                ArrayNode repoTags = entry.putArray("RepoTags");
                item.tags().forEach(t -> repoTags.add(t.familiar()));
            }
            ArrayNode entryLayers = entry.putArray("Layers");
            for (Layer layer : item.layers()) {
                ObjectNode l = layers.addObject();
                l.put("mediaType", "application/vnd.oci.image.layer.v1.tar");
                l.put("digest", layer.diffId().toString());
                l.put("size", layer.tarSize());
                entryLayers.add("blobs/sha256/" + layer.diffId().hex());
                if (written.add(layer.diffId())) {
                    TarArchiveEntry e = fileEntry("blobs/sha256/" + layer.diffId().hex(), layer.tarSize());
                    tar.putArchiveEntry(e);
                    store.writeTar(layer, tar);
                    tar.closeArchiveEntry();
                }
            }
            if (written.add(item.image().id())) {
                bytes(tar, "blobs/sha256/" + item.image().id().hex(), item.image().configBytes());
            }
            byte[] manifestBytes = ImageStore.json(manifest);
            Digest manifestDigest = Digest.of(manifestBytes);
            if (written.add(manifestDigest)) {
                bytes(tar, "blobs/sha256/" + manifestDigest.hex(), manifestBytes);
            }
            if (item.tags().isEmpty()) {
                descriptor(indexManifests, manifestDigest, manifestBytes.length, null);
            }
            for (Reference tag : item.tags()) {
                descriptor(indexManifests, manifestDigest, manifestBytes.length, tag);
            }
        }
        bytes(tar, "index.json", ImageStore.json(index));
        bytes(tar, "manifest.json", ImageStore.json(manifestJson));
        bytes(tar, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.US_ASCII));
        tar.finish();
        tar.flush();
    }

    private static void descriptor(ArrayNode manifests, Digest digest, int size, Reference tag) {
        ObjectNode d = manifests.addObject();
        d.put("mediaType", MANIFEST_TYPE);
        d.put("digest", digest.toString());
        d.put("size", size);
        if (tag != null) {
            ObjectNode annotations = d.putObject("annotations");
            annotations.put("io.containerd.image.name", tag.canonical());
            annotations.put("org.opencontainers.image.ref.name", tag.tag());
        }
    }

    private static TarArchiveEntry fileEntry(String name, long size) {
        TarArchiveEntry e = new TarArchiveEntry(name, true);
        e.setSize(size);
        e.setMode(0100644);
        e.setModTime(0);
        return e;
    }

    private static void directory(TarArchiveOutputStream tar, String name) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(040755);
        e.setModTime(0);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
    }

    private static void bytes(TarArchiveOutputStream tar, String name, byte[] content) throws IOException {
        tar.putArchiveEntry(fileEntry(name, content.length));
        tar.write(content);
        tar.closeArchiveEntry();
    }
}
