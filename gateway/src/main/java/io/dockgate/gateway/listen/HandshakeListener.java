package io.dockgate.gateway.listen;

/** Told of every refused handshake. */
@FunctionalInterface
public interface HandshakeListener {
    void rejected(HandshakeRejection rejection);
}
