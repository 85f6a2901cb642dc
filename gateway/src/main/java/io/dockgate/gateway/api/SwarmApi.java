package io.dockgate.gateway.api;

import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.http.OperationCatalog;
import io.dockgate.gateway.request.Route;
import io.vertx.core.Future;
import java.util.List;

/**
 * Swarm routes (swarm, nodes, services, tasks, secrets, configs) answered as dockerd answers them on a
 * node that is not in a swarm: 503 with its wording, which clients test for (docker-py's
 * {@code leave_swarm(force=True)} ignores a 503, not a 404). dockgate runs no swarm mode: init and join
 * are 501. Reads are {@code swarm.inspect}, everything else {@code swarm.manage}.
 */
public final class SwarmApi {
    static final String NOT_MANAGER = "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to "
            + "connect this node to swarm and try again.";
    static final String NOT_IN_SWARM = "This node is not part of a swarm";
    private static final List<String> OBJECTS = List.of("nodes", "services", "tasks", "secrets", "configs");

    public void register(OperationCatalog catalog) {
        catalog.add(Route.of("GET", "/swarm", "swarm.inspect"), r -> refuse(NOT_MANAGER))
                .add(Route.of("GET", "/swarm/unlockkey", "swarm.inspect"), r -> refuse(NOT_MANAGER))
                .add(Route.of("POST", "/swarm/init", "swarm.manage"), this::noSwarmMode)
                .add(Route.of("POST", "/swarm/join", "swarm.manage"), this::noSwarmMode)
                .add(Route.of("POST", "/swarm/leave", "swarm.manage"), r -> refuse(NOT_IN_SWARM))
                .add(Route.of("POST", "/swarm/update", "swarm.manage"), r -> refuse(NOT_MANAGER))
                .add(Route.of("POST", "/swarm/unlock", "swarm.manage"), r -> refuse(NOT_MANAGER));
        for (String kind : OBJECTS) {
            catalog.add(Route.of("GET", "/" + kind, "swarm.inspect"), r -> refuse(NOT_MANAGER))
                    .add(Route.of("GET", "/" + kind + "/{id}", "swarm.inspect"), r -> refuse(NOT_MANAGER))
                    .add(Route.of("DELETE", "/" + kind + "/{id}", "swarm.manage"), r -> refuse(NOT_MANAGER));
            if (!kind.equals("tasks")) {
                catalog.add(Route.of("POST", "/" + kind + "/{id}/update", "swarm.manage"), r -> refuse(NOT_MANAGER));
            }
            if (!kind.equals("tasks") && !kind.equals("nodes")) {
                catalog.add(Route.of("POST", "/" + kind + "/create", "swarm.manage"), r -> refuse(NOT_MANAGER));
            }
            if (kind.equals("services") || kind.equals("tasks")) {
                catalog.add(Route.of("GET", "/" + kind + "/{id}/logs", "swarm.inspect"), r -> refuse(NOT_MANAGER));
            }
        }
    }

    private static Future<?> refuse(String message) {
        return Future.failedFuture(new EngineException(ErrorKind.UNAVAILABLE, message));
    }

    private Future<?> noSwarmMode(ApiRequest request) {
        return Future.failedFuture(new EngineException(ErrorKind.NOT_IMPLEMENTED,
                "swarm mode is not available on dockgate: it runs containers on this host only"));
    }
}
