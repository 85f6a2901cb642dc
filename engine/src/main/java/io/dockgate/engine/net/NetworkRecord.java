package io.dockgate.engine.net;

import java.util.Map;

/**
 * A network as stored (one JSON file per network) and shown by inspect: the bridge driver's settings,
 * labels and options exactly as given, the owner among the labels.
 *
 * @param bridge     the Linux bridge's name (dockgate0 for the default network, br-ID12 otherwise)
 * @param isDefault  the predefined {@code bridge} network (no embedded DNS; --link)
 */
public record NetworkRecord(String id, String name, String driver, String created, String subnet, String gateway, String ipRange,
                            boolean internal, boolean attachable, Map<String, String> labels, Map<String, String> options,
                            String bridge, boolean isDefault, boolean gatewayGiven) {
    public Subnet subnetValue() {
        return Subnet.parse(subnet);
    }

    public int gatewayAddress() {
        return Subnet.address(gateway);
    }

    /** The range addresses are handed out from (the subnet unless an IP range was given). */
    public Subnet allocationRange() {
        return ipRange == null || ipRange.isEmpty() ? subnetValue() : Subnet.parse(ipRange);
    }

    public Map<String, String> labelsOrEmpty() {
        return labels == null ? Map.of() : labels;
    }

    public Map<String, String> optionsOrEmpty() {
        return options == null ? Map.of() : options;
    }
}
