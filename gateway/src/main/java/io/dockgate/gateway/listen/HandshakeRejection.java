package io.dockgate.gateway.listen;

import java.time.Instant;

/**
 * A TLS handshake the daemon refused, as logged (and, later, audited): where from, why, and the
 * certificate's subject and serial when the client presented one.
 */
public record HandshakeRejection(Instant time, String listener, String remote, String reason, String subject, String serial) {
}
