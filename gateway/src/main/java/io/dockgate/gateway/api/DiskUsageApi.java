package io.dockgate.gateway.api;

import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.http.Blocking;
import io.dockgate.gateway.http.OperationCatalog;
import io.dockgate.gateway.http.Responses;
import io.vertx.core.Future;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** docker system df: images and layers, containers with their writable layers, volumes with their sizes. */
public final class DiskUsageApi {
    private final ImagesApi images;
    private final ContainersApi containers;
    private final VolumesApi volumes;
    private final Blocking blocking;

    public DiskUsageApi(ImagesApi images, ContainersApi containers, VolumesApi volumes, Blocking blocking) {
        this.images = images;
        this.containers = containers;
        this.volumes = volumes;
        this.blocking = blocking;
    }

    public void register(OperationCatalog catalog) {
        catalog.add(OperationTable.SYSTEM_DF, "GET", "/system/df", this::diskUsage);
    }

    Future<?> diskUsage(ApiRequest request) {
        return blocking.run(() -> {
            Map<String, Object> body = new LinkedHashMap<>(images.diskUsage(request.access()));
            body.put("Containers", containers.diskUsage(request.access()));
            body.put("Volumes", volumes.diskUsage(request.access()));
            body.put("BuildCache", List.of());
            return body;
        }).compose(body -> Responses.json(request, 200, body));
    }
}
