package io.dockgate.engine.net;

import java.util.Map;

/**
 * A network as asked for by docker network create: name, driver (bridge), the IPv4 subnet, gateway and
 * allocation range (null: chosen by the daemon), internal, attachable, labels and driver options.
 */
public record NetworkSpec(String name, String driver, String subnet, String gateway, String ipRange, boolean internal,
                          boolean attachable, Map<String, String> labels, Map<String, String> options, boolean checkDuplicate) {
    public Map<String, String> labelsOrEmpty() {
        return labels == null ? Map.of() : labels;
    }

    public Map<String, String> optionsOrEmpty() {
        return options == null ? Map.of() : options;
    }

    public NetworkSpec withLabel(String key, String value) {
        Map<String, String> l = new java.util.LinkedHashMap<>(labelsOrEmpty());
        l.put(key, value);
        return new NetworkSpec(name, driver, subnet, gateway, ipRange, internal, attachable, l, options, checkDuplicate);
    }
}
