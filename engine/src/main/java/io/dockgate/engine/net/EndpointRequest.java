package io.dockgate.engine.net;

import java.util.List;

/**
 * A container's wish for one network, from its create request: the network (name, ID or prefix), the
 * aliases it answers to there, a fixed IPv4 address and MAC address (null: assigned).
 */
public record EndpointRequest(String network, List<String> aliases, String ipv4, String mac) {
    public List<String> aliasesOrEmpty() {
        return aliases == null ? List.of() : aliases;
    }
}
