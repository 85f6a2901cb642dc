package io.dockgate.engine.net;

/**
 * One published port as it is in force: the host address ("" for every address) and port, the
 * container's address and port, the protocol (tcp or udp), the network's bridge.
 */
public record PortMapping(String hostIp, int hostPort, String containerIp, int containerPort, String protocol, String bridge) {
}
