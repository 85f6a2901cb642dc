package io.dockgate.engine.volume;

import java.util.Map;

/**
 * A volume as asked for by docker volume create: name (empty: one is generated), driver (empty: local),
 * labels and driver options (null when none).
 */
public record VolumeSpec(String name, String driver, Map<String, String> labels, Map<String, String> options) {
    public Map<String, String> labelsOrEmpty() {
        return labels == null ? Map.of() : labels;
    }

    public Map<String, String> optionsOrEmpty() {
        return options == null ? Map.of() : options;
    }

    /** The same volume with one more label (the owner, stamped by the daemon). */
    public VolumeSpec withLabel(String key, String value) {
        Map<String, String> l = new java.util.LinkedHashMap<>(labelsOrEmpty());
        l.put(key, value);
        return new VolumeSpec(name, driver, l, options);
    }
}
