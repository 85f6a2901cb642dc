package io.dockgate.gateway.upstream;

import java.nio.file.Path;

/**
 * What upstream mode records that the upstream cannot: the owners of image names and holds
 * ({@code images.json}) and of anonymous volumes ({@code volumes.json}), under the data root's
 * {@code upstream/} directory.
 */
public record UpstreamState(UpstreamImages images, AnonymousVolumes volumes) {
    public static UpstreamState open(Path dir) {
        return new UpstreamState(UpstreamImages.open(dir.resolve("images.json")), AnonymousVolumes.open(dir.resolve("volumes.json")));
    }

    /** Waits until what was recorded is on disk (the daemon's stop). */
    public void sync() {
        images.sync();
        volumes.sync();
    }
}
