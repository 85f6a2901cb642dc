package io.dockgate.engine.net;

import io.dockgate.engine.EngineException;

/**
 * A port to publish, as asked: the container's port and protocol, the host address ("" for every
 * address) and the host port or range ("" or "0" for an ephemeral one).
 */
public record PortBinding(int containerPort, String protocol, String hostIp, String hostPort) {
    public PortBinding {
        if (containerPort < 1 || containerPort > 65535) {
            throw EngineException.invalid("invalid port " + containerPort);
        }
        if (!protocol.equals("tcp") && !protocol.equals("udp")) {
            throw EngineException.invalid("invalid protocol " + protocol + " (tcp or udp; sctp is not supported by dockgate)");
        }
        hostIp = hostIp == null ? "" : hostIp;
        hostPort = hostPort == null ? "" : hostPort;
        if (!hostIp.isEmpty()) {
            Subnet.address(hostIp); // IPv4 only
        }
        if (!hostPort.isEmpty() && !hostPort.matches("[0-9]{1,5}(-[0-9]{1,5})?")) {
            throw EngineException.invalid("invalid host port " + hostPort);
        }
    }

    /** The range of host ports this binding may take, or null for an ephemeral one. */
    public int[] range() {
        if (hostPort.isEmpty() || hostPort.equals("0")) {
            return null;
        }
        String[] p = hostPort.split("-");
        int lo = Integer.parseInt(p[0]);
        int hi = p.length > 1 ? Integer.parseInt(p[1]) : lo;
        if (lo < 1 || hi > 65535 || hi < lo) {
            throw EngineException.invalid("invalid host port range " + hostPort);
        }
        return new int[] {lo, hi};
    }
}
