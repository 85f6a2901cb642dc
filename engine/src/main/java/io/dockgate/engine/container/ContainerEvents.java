package io.dockgate.engine.container;

import io.dockgate.engine.events.Events;
import java.util.Map;

/** Container and volume events with Docker's attributes, emitted by every room of the container service. */
final class ContainerEvents {
    private final Events events;

    ContainerEvents(Events events) {
        this.events = events;
    }

    /** Emits a container event with Docker's attributes: image, name, the labels, and the action's own. */
    void emit(ContainerRecord c, String action, String... extra) {
        Map<String, String> attrs = new java.util.TreeMap<>(c.spec().labels() == null ? Map.of() : ContainerSpec.visibleLabels(c.spec().labels()));
        attrs.put("image", c.imageRef());
        attrs.put("name", c.name().startsWith("/") ? c.name().substring(1) : c.name());
        attrs.putAll(Events.attributes(extra));
        events.emit("container", action, c.id(), attrs, c.spec().labels() == null ? Map.of() : c.spec().labels());
    }

    /** A volume event per named volume the container mounts (mount at start, unmount at exit). */
    void volumes(ContainerRecord c, String action) {
        for (ContainerSpec.Mount m : c.spec().host().mountsOrEmpty()) {
            if (m.type().equals(ContainerSpec.Mount.VOLUME)) {
                events.emit("volume", action, m.source(), action.equals("mount")
                        ? Events.attributes("container", c.id(), "destination", m.target(), "driver", "local", "propagation", "",
                        "read/write", Boolean.toString(!m.readOnly()))
                        : Events.attributes("container", c.id(), "driver", "local"),
                        c.spec().labels() == null ? Map.of() : c.spec().labels()); // the container's owner mounted it
            }
        }
    }
}
