package io.dockgate.engine.image;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.engine.EngineException;
import java.io.IOException;
import java.io.OutputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * {@code docker push} of one tag: every layer is made present in the target repository the cheapest way
 * (already there; mounted from a sibling repository of the same registry; else its exact tar, replayed
 * from the layer store and gzip-compressed, uploaded), then the configuration, then the manifest, in the
 * media type family the image came with (OCI when it was pulled with an OCI manifest, Docker schema 2
 * otherwise, as dockerd pushes what it built or loaded). The digest the registry names the manifest by must be the one of the bytes sent.
 */
final class Pusher {
    static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
    static final String DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

    /** What a push stored: the tag, its manifest's digest and length. */
    record Pushed(String tag, Digest digest, long size) {
    }

    private final RegistryClient client;
    private final Reference repository;
    private final LayerStore layers;
    private final BlobSources sources;
    private final PushListener listener;

    Pusher(RegistryClient client, Reference repository, LayerStore layers, BlobSources sources, PushListener listener) {
        this.client = client;
        this.repository = repository;
        this.layers = layers;
        this.sources = sources;
        this.listener = listener;
    }

    Pushed push(String tag, Image image, List<Layer> imageLayers) throws IOException {
        boolean oci = sources.manifestType(image.id()).map(t -> t.equals(OCI_MANIFEST)).orElse(false);
        for (int i = imageLayers.size() - 1; i >= 0; i--) {
            listener.status(imageLayers.get(i).diffId().shortId(), "Preparing");
        }
        List<BlobSources.Source> blobs = layers(imageLayers, oci);
        if (!client.hasBlob(image.id())) {
            client.upload(image.id(), image.configBytes(), "application/octet-stream");
        }
        ObjectNode manifest = ImageStore.JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", oci ? OCI_MANIFEST : DOCKER_MANIFEST);
        manifest.putObject("config").put("mediaType", oci ? OCI_CONFIG : DOCKER_CONFIG).put("size", image.configBytes().length)
                .put("digest", image.id().toString());
        ArrayNode list = manifest.putArray("layers");
        for (BlobSources.Source b : blobs) {
            list.addObject().put("mediaType", b.mediaType()).put("size", b.size()).put("digest", b.digest().toString());
        }
        byte[] bytes = ImageStore.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest);
        Digest ours = Digest.of(bytes);
        Digest theirs = client.putManifest(tag, oci ? OCI_MANIFEST : DOCKER_MANIFEST, bytes);
        if (!theirs.equals(ours)) {
            throw EngineException.invalid("registry " + client.host() + " stored the manifest of " + repository.familiarName() + ":" + tag
                    + " as " + theirs + ", not as the " + ours + " that was sent");
        }
        return new Pushed(tag, ours, bytes.length);
    }

    /** Every layer made present, {@link #PARALLEL} at a time; the first failure stops the others and is the push's. */
    private List<BlobSources.Source> layers(List<Layer> imageLayers, boolean oci) throws IOException {
        List<java.util.concurrent.Callable<BlobSources.Source>> tasks = new ArrayList<>();
        for (Layer l : imageLayers) {
            tasks.add(() -> layer(l, oci));
        }
        java.util.Collections.reverse(tasks); // top first, as dockerd
        List<BlobSources.Source> done = parallel.run("push-layer", PARALLEL, tasks);
        java.util.Collections.reverse(done);
        return done;
    }

    /** Makes one layer's blob present in the repository; returns its descriptor. */
    private BlobSources.Source layer(Layer layer, boolean oci) throws IOException {
        checkCancelled();
        String id = layer.diffId().shortId();
        String registry = client.host();
        List<BlobSources.Source> known = sources.of(layer.diffId()).stream()
                .filter(s -> s.registry().equals(registry) && compatible(s.mediaType(), oci)).toList();
        for (BlobSources.Source s : known) {
            if (s.repository().equals(repository.path()) && client.hasBlob(s.digest())) {
                listener.status(id, "Layer already exists");
                return s;
            }
        }
        for (BlobSources.Source s : known) {
            if (!s.repository().equals(repository.path()) && client.mount(s.digest(), s.repository())) {
                listener.status(id, "Mounted from " + s.repository());
                return remember(layer, s);
            }
        }
        long[] compressed = new long[1];
        Digest digest = client.uploadStreamed(out -> {
            MessageDigest sha = Digest.sha256();
            CountingOutput counted = new CountingOutput(new DigestOutputStream(out, sha), n -> compressed[0] = n, -1);
            try (GZIPOutputStream gzip = new FastGzip(counted)) {
                layers.writeTar(layer, new CountingOutput(gzip, current -> {
                    checkCancelled();
                    listener.progress(id, "Pushing", current, layer.tarSize());
                }, 512 * 1024));
            }
            return Digest.of(sha);
        });
        listener.status(id, "Pushed");
        return remember(layer, new BlobSources.Source(digest, oci ? OCI_LAYER : DOCKER_LAYER, compressed[0], registry, repository.path()));
    }

    /** Layers pushed at once: compression takes a core each. */
    private static final int PARALLEL = 3;
    private final Parallel parallel = new Parallel();

    /**
     * gzip at level 1 (zlib's fastest): on this machine's /usr about 3 times the speed of the default level 6
     * for 9% more bytes (docs/benchmarks.md); compression is most of a push's time.
     */
    private static final class FastGzip extends GZIPOutputStream {
        FastGzip(OutputStream out) throws IOException {
            super(out, 64 * 1024);
            def.setLevel(java.util.zip.Deflater.BEST_SPEED);
        }
    }

    /** Counts the bytes written through it and reports the count every {@code every} bytes (and at close). */
    private static final class CountingOutput extends java.io.FilterOutputStream {
        interface Report {
            void count(long bytes) throws IOException;
        }

        private final Report report;
        private final long every;
        private long total;
        private long reported;

        CountingOutput(OutputStream out, Report report, long every) {
            super(out);
            this.report = report;
            this.every = every;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            total += len;
            if (every > 0 && total - reported >= every) {
                reported = total;
                report.count(total);
            } else if (every <= 0) {
                report.count(total);
            }
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void close() throws IOException {
            super.close();
        }
    }

    private void checkCancelled() throws java.io.InterruptedIOException {
        if (parallel.failed()) {
            throw new java.io.InterruptedIOException("another layer of the push failed");
        }
        if (listener.cancelled()) {
            throw new java.io.InterruptedIOException("the push was cancelled: its client went away");
        }
    }

    private BlobSources.Source remember(Layer layer, BlobSources.Source at) throws IOException {
        BlobSources.Source here = new BlobSources.Source(at.digest(), at.mediaType(), at.size(), client.host(), repository.path());
        sources.add(layer.diffId(), here);
        return here;
    }

    private static boolean compatible(String mediaType, boolean oci) {
        return oci ? mediaType.startsWith("application/vnd.oci.image.layer.") : mediaType.equals(DOCKER_LAYER);
    }
}
