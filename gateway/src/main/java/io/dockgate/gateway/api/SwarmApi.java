package io.dockgate.gateway.api;

import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.http.OperationCatalog;
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
        catalog.add(OperationTable.SWARM_INSPECT, "GET", "/swarm", r -> refuse(NOT_MANAGER))
                .add(OperationTable.SWARM_INSPECT, "GET", "/swarm/unlockkey", r -> refuse(NOT_MANAGER))
                .add(OperationTable.SWARM_MANAGE, "POST", "/swarm/init", this::noSwarmMode)
                .add(OperationTable.SWARM_MANAGE, "POST", "/swarm/join", this::noSwarmMode)
                .add(OperationTable.SWARM_MANAGE, "POST", "/swarm/leave", r -> refuse(NOT_IN_SWARM))
                .add(OperationTable.SWARM_MANAGE, "POST", "/swarm/update", r -> refuse(NOT_MANAGER))
                .add(OperationTable.SWARM_MANAGE, "POST", "/swarm/unlock", r -> refuse(NOT_MANAGER));
        for (String kind : OBJECTS) {
            catalog.add(OperationTable.SWARM_INSPECT, "GET", "/" + kind, r -> refuse(NOT_MANAGER))
                    .add(OperationTable.SWARM_INSPECT, "GET", "/" + kind + "/{id}", r -> refuse(NOT_MANAGER))
                    .add(OperationTable.SWARM_MANAGE, "DELETE", "/" + kind + "/{id}", r -> refuse(NOT_MANAGER));
            if (!kind.equals("tasks")) {
                catalog.add(OperationTable.SWARM_MANAGE, "POST", "/" + kind + "/{id}/update", r -> refuse(NOT_MANAGER));
            }
            if (!kind.equals("tasks") && !kind.equals("nodes")) {
                catalog.add(OperationTable.SWARM_MANAGE, "POST", "/" + kind + "/create", r -> refuse(NOT_MANAGER));
            }
            if (kind.equals("services") || kind.equals("tasks")) {
                catalog.add(OperationTable.SWARM_INSPECT, "GET", "/" + kind + "/{id}/logs", r -> refuse(NOT_MANAGER));
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
