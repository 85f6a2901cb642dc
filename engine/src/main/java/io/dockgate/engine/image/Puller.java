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
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Puller.class);
    private static final Set<String> LAYER_TYPES = Set.of(
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "application/vnd.oci.image.layer.v1.tar",
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "application/vnd.oci.image.layer.v1.tar+zstd");

    /**
     * What a pull resolved: the configuration, the layers' blobs and DiffIDs, which of them the store lacks,
     * and how to fetch one. Downloads may run concurrently; each verified blob is linked to a file of this
     * pull's own, which {@link #discard} removes, and kept under its digest for a retry until
     * {@link #committed}.
     */
    static final class Plan {
        final byte[] config;
        final List<Digest> blobDigests;
        final List<Digest> diffIds;
        final List<Boolean> needed;
        final Digest manifestDigest;
        final List<BlobSources.Source> sources;
        final String manifestType;
        private final List<Long> sizes;
        private final RegistryClient client;
        private final Registries registries;
        private final Path tmp;
        private final Path blobs;
        private final PullListener listener;
        private final List<Path> own = java.util.Collections.synchronizedList(new ArrayList<>());
        private final List<Path> cached = java.util.Collections.synchronizedList(new ArrayList<>());

        private Plan(byte[] config, List<Digest> blobDigests, List<Digest> diffIds, List<Boolean> needed, Digest manifestDigest,
                     List<BlobSources.Source> sources, String manifestType, List<Long> sizes, RegistryClient client, Registries registries,
                     Path tmp, PullListener listener) {
            this.config = config;
            this.blobDigests = blobDigests;
            this.diffIds = diffIds;
            this.needed = needed;
            this.manifestDigest = manifestDigest;
            this.sources = sources;
            this.manifestType = manifestType;
            this.sizes = sizes;
            this.client = client;
            this.registries = registries;
            this.tmp = tmp;
            this.blobs = tmp.resolveSibling(BLOB_DIR);
            this.listener = listener;
        }

        /** Fetches (or finds, verified, from an earlier try) blob i; returns this pull's own link to it. */
        Path download(int i) throws IOException {
            Digest d = blobDigests.get(i);
            long size = sizes.get(i);
            Path shared = blobs.resolve(d.hex());
            Path mine = tmp.resolve("pull-" + UUID.randomUUID()); // this pull's own link: another pull may commit and drop the shared one
            cached.add(shared);
            if (link(shared, mine)) {
                own.add(mine);
                listener.status(d.shortId(), "Download complete"); // verified by an earlier pull that did not finish
                return mine;
            }
            Puller.download(client, registries, d, size, shared, listener);
            if (!link(shared, mine)) {
                throw new EngineException(io.dockgate.engine.ErrorKind.CONFLICT, "blob " + d.shortId()
                        + " was taken by a concurrent pull; try again");
            }
            own.add(mine);
            listener.status(d.shortId(), "Verifying Checksum");
            listener.status(d.shortId(), "Download complete");
            return mine;
        }

        /** The pull committed: the verified blobs kept for a retry are not needed any more. */
        void committed() throws IOException {
            synchronized (cached) {
                for (Path p : cached) {
                    Files.deleteIfExists(p);
                }
            }
        }

        /** Removes this pull's own links (the verified blobs stay for a retry unless committed). */
        void discard() throws IOException {
            synchronized (own) {
                for (Path p : own) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private Puller() {
    }

    static Plan resolve(Registries registries, Reference ref, RegistryCredentials credentials, LayerStore layers, Path tmp,
                        PullListener listener) throws IOException {
        String target = ref.digest() != null ? ref.digest() : ref.tag();
        RegistryClient client = null;
        RegistryClient.Manifest manifest = null;
        if (ref.domain().equals(Reference.DEFAULT_DOMAIN)) {
            for (String mirror : registries.mirrors()) {
                // Docker Hub's images through a mirror first, as dockerd: a mirror that fails or lacks it is passed over
                RegistryClient m = RegistryClient.mirror(registries, mirror, ref, credentials);
                try {
                    manifest = m.manifest(target);
                    client = m;
                    break;
                } catch (EngineException e) {
                    LOG.info("mirror {} cannot serve {}: {}", mirror, ref.familiar(), e.getMessage());
                }
            }
        }
        if (client == null) {
            client = new RegistryClient(registries, ref, credentials);
            manifest = client.manifest(target); // an unreachable registry or unknown tag fails before any output
        }
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
        Files.createDirectories(tmp);
        List<Boolean> needed = new ArrayList<>();
        List<Long> sizes = new ArrayList<>();
        Digest parent = null;
        for (int i = 0; i < blobDigests.size(); i++) {
            parent = Digest.chain(parent, image.diffIds().get(i));
            boolean have = layers.get(parent).isPresent();
            needed.add(!have);
            sizes.add(layerDescriptors.get(i).path("size").asLong(-1));
            listener.status(blobDigests.get(i).shortId(), have ? "Already exists" : "Pulling fs layer");
        }
        List<BlobSources.Source> sources = new ArrayList<>();
        for (int i = 0; i < blobDigests.size(); i++) {
            JsonNode l = layerDescriptors.get(i);
            sources.add(new BlobSources.Source(blobDigests.get(i), l.path("mediaType").asText(), l.path("size").asLong(-1), client.host(),
                    ref.path()));
        }
        return new Plan(config, blobDigests, image.diffIds(), needed, manifestDigest, sources, manifest.mediaType(), sizes, client,
                registries, tmp, listener);
    }

    /**
     * A blob to its file: fetched into a temporary name, verified, renamed; what broke off midway is fetched
     * again, with back-off, up to the configured attempts. A verified blob stays for a retried pull until one
     * commits it.
     */
    private static void download(RegistryClient client, Registries registries, Digest d, long size, Path file, PullListener listener)
            throws IOException {
        for (int attempt = 1; ; attempt++) {
            Path partial = file.resolveSibling(file.getFileName() + ".partial-" + UUID.randomUUID());
            try {
                client.blob(d, size, partial, current -> listener.progress(d.shortId(), "Downloading", current, size));
                Files.move(partial, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                return;
            } catch (java.io.InterruptedIOException e) {
                throw e;
            } catch (IOException e) {
                if (attempt >= registries.maxAttempts()) {
                    throw e;
                }
                LOG.info("blob {} broke off ({}): attempt {} of {}", d.shortId(), e.toString(), attempt + 1, registries.maxAttempts());
                RegistryClient.backOff(attempt);
            } finally {
                Files.deleteIfExists(partial);
            }
        }
    }

    private static boolean link(Path shared, Path mine) throws IOException {
        try {
            Files.createLink(mine, shared);
            return true;
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        }
    }

    /**
     * Beside the layer store's temporary directory (emptied at every start): the verified blobs of pulls that
     * did not commit, by digest, kept across a restart for their retry.
     */
    static final String BLOB_DIR = "pull-blobs";

    static boolean isIndex(RegistryClient.Manifest manifest) {
        String type = manifest.mediaType();
        return type.endsWith("image.index.v1+json") || type.endsWith("manifest.list.v2+json")
                || (type.isEmpty() && manifest.json().has("manifests"));
    }
}
