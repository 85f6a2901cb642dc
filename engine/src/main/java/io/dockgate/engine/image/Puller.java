package io.dockgate.engine.image;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.EngineException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * {@code docker pull}: resolves a reference at its registry (manifest lists and OCI indexes: linux/amd64),
 * downloads the configuration and the layers it does not have yet, verifying every digest, and hands
 * them to the store, which unpacks them against the configuration's DiffIDs and commits the image.
 */
final class Puller {
    private static final Set<String> LAYER_TYPES = Set.of(
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "application/vnd.oci.image.layer.v1.tar",
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "application/vnd.oci.image.layer.v1.tar+zstd");

    /** What a pull fetched, ready to commit. */
    record Fetched(byte[] config, List<Path> blobs, List<Digest> blobDigests, List<Digest> diffIds, Digest manifestDigest,
                   List<BlobSources.Source> sources, String manifestType) {
    }

    private Puller() {
    }

    static Fetched fetch(Reference ref, RegistryCredentials credentials, LayerStore layers, Path tmp, PullListener listener)
            throws IOException {
        RegistryClient client = new RegistryClient(ref, credentials);
        String target = ref.digest() != null ? ref.digest() : ref.tag();
        RegistryClient.Manifest manifest = client.manifest(target); // an unreachable registry or unknown tag fails before any output
        listener.status(ref.digest() != null ? ref.digest() : ref.tag(), "Pulling from " + ref.familiarName());
        Digest manifestDigest = manifest.digest();
        if (isIndex(manifest)) {
            JsonNode chosen = null;
            for (JsonNode m : manifest.json().path("manifests")) {
                JsonNode p = m.path("platform");
                if (p.path("os").asText().equals("linux") && p.path("architecture").asText().equals("amd64")) {
                    chosen = m;
                    break;
                }
            }
            if (chosen == null) {
                throw EngineException.notFound("no matching manifest for linux/amd64 in the manifest list entries");
            }
            manifestDigest = Digest.parse(chosen.path("digest").asText());
            manifest = client.manifest(manifestDigest.toString());
        }
        JsonNode m = manifest.json();
        if (m.path("schemaVersion").asInt() != 2 || isIndex(manifest)) {
            throw EngineException.invalid("unsupported manifest (schema " + m.path("schemaVersion").asText() + ", " + manifest.mediaType()
                    + "): only Docker schema 2 and OCI image manifests are supported");
        }
        Digest configDigest = Digest.parse(m.path("config").path("digest").asText());
        byte[] config = client.blobBytes(configDigest, 16 << 20);
        Image image = ImageStore.parse(configDigest, config);
        JsonNode layerDescriptors = m.path("layers");
        if (layerDescriptors.size() != image.diffIds().size()) {
            throw EngineException.invalid("the manifest lists " + layerDescriptors.size() + " layers but the configuration has "
                    + image.diffIds().size());
        }
        List<Digest> blobDigests = new ArrayList<>();
        for (JsonNode l : layerDescriptors) {
            String type = l.path("mediaType").asText();
            if (!LAYER_TYPES.contains(type)) {
                throw EngineException.invalid("unsupported layer media type " + type);
            }
            blobDigests.add(Digest.parse(l.path("digest").asText()));
        }
        List<Path> blobs = new ArrayList<>();
        List<Boolean> needed = new ArrayList<>();
        Digest parent = null;
        for (int i = 0; i < blobDigests.size(); i++) {
            parent = Digest.chain(parent, image.diffIds().get(i));
            boolean have = layers.get(parent).isPresent();
            needed.add(!have);
            listener.status(blobDigests.get(i).shortId(), have ? "Already exists" : "Pulling fs layer");
        }
        try {
            for (int i = 0; i < blobDigests.size(); i++) {
                if (!needed.get(i)) {
                    blobs.add(null);
                    continue;
                }
                Digest d = blobDigests.get(i);
                long size = layerDescriptors.get(i).path("size").asLong(-1);
                Path file = tmp.resolve("pull-" + UUID.randomUUID());
                blobs.add(file);
                client.blob(d, size, file, current -> listener.progress(d.shortId(), "Downloading", current, size));
                listener.status(d.shortId(), "Verifying Checksum");
                listener.status(d.shortId(), "Download complete");
            }
        } catch (IOException | RuntimeException e) {
            for (Path p : blobs) {
                if (p != null) {
                    Files.deleteIfExists(p);
                }
            }
            throw e;
        }
        List<BlobSources.Source> sources = new ArrayList<>();
        for (int i = 0; i < blobDigests.size(); i++) {
            JsonNode l = layerDescriptors.get(i);
            sources.add(new BlobSources.Source(blobDigests.get(i), l.path("mediaType").asText(), l.path("size").asLong(-1), client.host(),
                    ref.path()));
        }
        return new Fetched(config, blobs, blobDigests, image.diffIds(), manifestDigest, sources, manifest.mediaType());
    }

    static boolean isIndex(RegistryClient.Manifest manifest) {
        String type = manifest.mediaType();
        return type.endsWith("image.index.v1+json") || type.endsWith("manifest.list.v2+json")
                || (type.isEmpty() && manifest.json().has("manifests"));
    }
}
