package io.dockgate.engine.events;

import java.util.Map;

/**
 * One thing that happened, in Docker's terms: a type (container, image, volume), an action (create,
 * start, die, destroy, pull, tag, mount ...), the object's ID and its attributes (name, image, labels,
 * exitCode ...), and the time in nanoseconds since the epoch.
 */
public record Event(String type, String action, String id, Map<String, String> attributes, long timeNano) {
}
