package io.dockgate.engine.net;

import java.util.List;

/**
 * What a running container holds of the network: its namespace (a bind-mounted file under the exec
 * root), one endpoint per network, the ports published to it. Stored with the container's record, so
 * that a restarted daemon takes it back as it was.
 */
public record NetworkState(String sandbox, List<Endpoint> endpoints, List<PortMapping> ports) {
    public List<Endpoint> endpointsOrEmpty() {
        return endpoints == null ? List.of() : endpoints;
    }

    public List<PortMapping> portsOrEmpty() {
        return ports == null ? List.of() : ports;
    }
}
