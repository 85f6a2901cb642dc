package io.dockgate.engine.container;

import io.dockgate.engine.EngineException;

/** One entry of HostConfig.VolumesFrom: a container and an optional mode, ro or rw. */
public record VolumesFrom(String container, String mode) {
    public static VolumesFrom parse(String entry) {
        int colon = entry.lastIndexOf(':');
        String container = colon > 0 ? entry.substring(0, colon) : entry;
        String mode = colon > 0 ? entry.substring(colon + 1) : null;
        if (container.isEmpty() || mode != null && !mode.equals("ro") && !mode.equals("rw")) {
            throw EngineException.invalid("invalid mode for volumes-from: " + entry);
        }
        return new VolumesFrom(container, mode);
    }
}
