package io.dockgate.engine.net;

/**
 * A docker network connect or disconnect: the container (name, ID or prefix), the endpoint's settings
 * (connect: aliases, fixed IPv4 address, MAC address), and Force (disconnect).
 */
public record NetworkConnection(String container, EndpointRequest endpoint, boolean force) {
}
