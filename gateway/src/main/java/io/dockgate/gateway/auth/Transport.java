package io.dockgate.gateway.auth;

/** How a caller reached the daemon. */
public enum Transport {
    /** TCP with mutual TLS: identity from the client certificate. */
    TLS,
    /** The local Unix socket: identity from SO_PEERCRED. */
    UNIX,
    /** Plain TCP on loopback, allowed only with an explicit opt-in: no identity. */
    TCP_INSECURE;

    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
