package io.dockgate.engine.build;

import java.util.List;
import java.util.Map;

/**
 * What {@code POST /build} asks for, as the engine runs it: the tags, the Dockerfile's path in the
 * context, build arguments and labels, the stage to stop at, cache and pull choices, whether to remove
 * the RUN containers (always, or on success only), quiet output, and the RUN containers' network mode
 * and limits; the owner the images and containers it makes belong to ("" for none).
 */
public record BuildRequest(List<String> tags, String dockerfile, Map<String, String> buildArgs, Map<String, String> labels,
                           String target, boolean noCache, boolean pull, boolean rm, boolean forceRm, boolean quiet,
                           String networkMode, Limits limits, String platform, String owner,
                           io.dockgate.engine.image.ImageNamespace images) {
    /** Limits of the RUN containers (0: none), as the query's memory, memswap, cpushares, cpuquota, cpuperiod, cpusetcpus, shmsize. */
    public record Limits(long memory, long memorySwap, long cpuShares, long cpuQuota, long cpuPeriod, String cpusetCpus, long shmSize) {
        public static final Limits NONE = new Limits(0, 0, 0, 0, 0, "", 0);
    }

    /** The same request on behalf of a caller: its owner key and the namespace of image names it speaks in. */
    public BuildRequest withCaller(String newOwner, io.dockgate.engine.image.ImageNamespace namespace) {
        return new BuildRequest(tags, dockerfile, buildArgs, labels, target, noCache, pull, rm, forceRm, quiet, networkMode, limits,
                platform, newOwner, namespace);
    }

    public BuildRequest {
        tags = tags == null ? List.of() : List.copyOf(tags);
        dockerfile = dockerfile == null || dockerfile.isEmpty() ? "Dockerfile" : dockerfile;
        buildArgs = buildArgs == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(buildArgs)); // null: the default
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        target = target == null ? "" : target;
        networkMode = networkMode == null || networkMode.isEmpty() || networkMode.equals("default") ? "" : networkMode;
        limits = limits == null ? Limits.NONE : limits;
        platform = platform == null ? "" : platform;
        owner = owner == null ? "" : owner;
        images = images == null ? io.dockgate.engine.image.ImageNamespace.COMMON : images;
    }
}
