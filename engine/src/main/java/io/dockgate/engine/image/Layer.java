package io.dockgate.engine.image;

import java.nio.file.Path;

/**
 * One unpacked, read-only layer: shared by every image whose layer chain passes through it, used as an
 * overlay lowerdir. Identified by its ChainID; {@code tarSize} is the size of its tar (what
 * {@code docker save} writes), {@code diskSize} the bytes of its files.
 */
public record Layer(Digest chainId, Digest diffId, Digest parent, long tarSize, long diskSize, Path directory) {

    /** The directory holding the layer's files (the overlay lowerdir). */
    public Path diff() {
        return directory.resolve("diff");
    }

    Path tarSplit() {
        return directory.resolve("tar-split.gz");
    }
}
