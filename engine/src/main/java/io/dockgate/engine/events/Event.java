package io.dockgate.engine.events;

import java.util.Map;

/**
 * One thing that happened, in Docker's terms: a type (container, image, volume), an action (create,
 * start, die, destroy, pull, tag, mount ...), the object's ID and its attributes (name, image, labels,
 * exitCode ...), and the time in nanoseconds since the epoch. {@code scope} holds the labels of the object
 * whose owner the event concerns (a container's for its own events and its volumes' mounts, a volume's for
 * its create and destroy): the gateway shows an event only to callers who may see that object. It is not
 * part of Docker's event, which carries no labels for volumes.
 */
public record Event(String type, String action, String id, Map<String, String> attributes, long timeNano,
                    Map<String, String> scope) {
}
