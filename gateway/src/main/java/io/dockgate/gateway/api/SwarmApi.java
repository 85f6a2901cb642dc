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
 * are 501. Each route is an operation of its own (node.*, service.*, task.*, secret.*, config.*, and
 * swarm.inspect / swarm.manage for the swarm itself): in upstream mode a swarm manager answers them.
 */
public final class SwarmApi {
    static final String NOT_MANAGER = "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to "
            + "connect this node to swarm and try again.";
    static final String NOT_IN_SWARM = "This node is not part of a swarm";

    public void register(OperationCatalog catalog) {
        catalog.add(OperationTable.SWARM_INSPECT, "GET", "/swarm", r -> refuse(NOT_MANAGER))
                .add(OperationTable.SWARM_INSPECT, "GET", "/swarm/unlockkey", r -> refuse(NOT_MANAGER))
                .add(OperationTable.SWARM_MANAGE, "POST", "/swarm/init", this::noSwarmMode)
                .add(OperationTable.SWARM_MANAGE, "POST", "/swarm/join", this::noSwarmMode)
                .add(OperationTable.SWARM_MANAGE, "POST", "/swarm/leave", r -> refuse(NOT_IN_SWARM))
                .add(OperationTable.SWARM_MANAGE, "POST", "/swarm/update", r -> refuse(NOT_MANAGER))
                .add(OperationTable.SWARM_MANAGE, "POST", "/swarm/unlock", r -> refuse(NOT_MANAGER))
                .add(OperationTable.NODE_LIST, "GET", "/nodes", r -> refuse(NOT_MANAGER))
                .add(OperationTable.NODE_INSPECT, "GET", "/nodes/{id}", r -> refuse(NOT_MANAGER))
                .add(OperationTable.NODE_UPDATE, "POST", "/nodes/{id}/update", r -> refuse(NOT_MANAGER))
                .add(OperationTable.NODE_DELETE, "DELETE", "/nodes/{id}", r -> refuse(NOT_MANAGER))
                .add(OperationTable.SERVICE_LIST, "GET", "/services", r -> refuse(NOT_MANAGER))
                .add(OperationTable.SERVICE_CREATE, "POST", "/services/create", r -> refuse(NOT_MANAGER))
                .add(OperationTable.SERVICE_INSPECT, "GET", "/services/{id}", r -> refuse(NOT_MANAGER))
                .add(OperationTable.SERVICE_UPDATE, "POST", "/services/{id}/update", r -> refuse(NOT_MANAGER))
                .add(OperationTable.SERVICE_DELETE, "DELETE", "/services/{id}", r -> refuse(NOT_MANAGER))
                .add(OperationTable.SERVICE_LOGS, "GET", "/services/{id}/logs", r -> refuse(NOT_MANAGER))
                .add(OperationTable.TASK_LIST, "GET", "/tasks", r -> refuse(NOT_MANAGER))
                .add(OperationTable.TASK_INSPECT, "GET", "/tasks/{id}", r -> refuse(NOT_MANAGER))
                .add(OperationTable.TASK_LOGS, "GET", "/tasks/{id}/logs", r -> refuse(NOT_MANAGER))
                .add(OperationTable.SECRET_LIST, "GET", "/secrets", r -> refuse(NOT_MANAGER))
                .add(OperationTable.SECRET_CREATE, "POST", "/secrets/create", r -> refuse(NOT_MANAGER))
                .add(OperationTable.SECRET_INSPECT, "GET", "/secrets/{id}", r -> refuse(NOT_MANAGER))
                .add(OperationTable.SECRET_UPDATE, "POST", "/secrets/{id}/update", r -> refuse(NOT_MANAGER))
                .add(OperationTable.SECRET_DELETE, "DELETE", "/secrets/{id}", r -> refuse(NOT_MANAGER))
                .add(OperationTable.CONFIG_LIST, "GET", "/configs", r -> refuse(NOT_MANAGER))
                .add(OperationTable.CONFIG_CREATE, "POST", "/configs/create", r -> refuse(NOT_MANAGER))
                .add(OperationTable.CONFIG_INSPECT, "GET", "/configs/{id}", r -> refuse(NOT_MANAGER))
                .add(OperationTable.CONFIG_UPDATE, "POST", "/configs/{id}/update", r -> refuse(NOT_MANAGER))
                .add(OperationTable.CONFIG_DELETE, "DELETE", "/configs/{id}", r -> refuse(NOT_MANAGER));
    }

    private static Future<?> refuse(String message) {
        return Future.failedFuture(new EngineException(ErrorKind.UNAVAILABLE, message));
    }

    private Future<?> noSwarmMode(ApiRequest request) {
        return Future.failedFuture(new EngineException(ErrorKind.NOT_IMPLEMENTED,
                "swarm mode is not available on dockgate: it runs containers on this host only"));
    }
}
