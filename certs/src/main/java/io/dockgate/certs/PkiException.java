package io.dockgate.certs;

/** A failure of the PKI: unreadable or inconsistent material, or a refused operation. */
public class PkiException extends RuntimeException {
    public PkiException(String message) {
        super(message);
    }

    public PkiException(String message, Throwable cause) {
        super(message, cause);
    }
}
