package io.dockgate.engine.net;

import java.util.List;

/**
 * A container's place on one network while it runs: the interface inside its namespace ({@code eth0}, ...)
 * and its host-side peer on the network's bridge, its address and MAC, the aliases it answers to.
 */
public record Endpoint(String network, String networkId, String endpointId, String ip, int prefix, String gateway, String mac,
                       List<String> aliases, String ifName, String hostIf) {
}
