package io.dockgate.gateway.authz;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * A swarm service's tasks as the container they amount to: the create body its ContainerSpec, networks,
 * ports and limits were rewritten into, that body translated into the engine's spec, and the networks it
 * attaches to. Judged with the container constraints ({@link ConstraintChecker#SERVICE}).
 */
public record ServiceTask(JsonNode createJson, Object spec, List<String> networks) {
}
