package io.dockgate.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.container.ContainerSpec;
import io.dockgate.gateway.request.DockerJson;
import java.util.List;

/**
 * A docker update body, translated once into the engine's changes: a {@link ContainerSpec.Host} whose
 * non-zero resources and non-null restart policy replace the container's
 * ({@link ContainerSpec.Host#updatedBy}). Fields the engine cannot change are refused by name.
 */
public final class UpdateRequest {
    private static final List<String> REFUSED = List.of("BlkioWeight", "CpuRealtimePeriod", "CpuRealtimeRuntime", "CpusetMems",
            "KernelMemory", "MemoryReservation", "KernelMemoryTCP", "OomKillDisable", "Devices", "DeviceCgroupRules", "Ulimits");

    private UpdateRequest() {
    }

    public static ContainerSpec.Host parse(JsonNode body) {
        for (String f : REFUSED) {
            if (DockerJson.present(body, f)) {
                throw EngineException.invalid(f + " cannot be updated by dockgate");
            }
        }
        ContainerSpec.HostBuilder b = ContainerSpec.Host.builder()
                .restartPolicy(DockerJson.field(body, "RestartPolicy") == null ? null : CreateRequest.restartPolicy(body));
        CreateRequest.resources(body, b);
        return b.build();
    }
}
