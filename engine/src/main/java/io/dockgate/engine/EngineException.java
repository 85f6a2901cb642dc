package io.dockgate.engine;

/** The one unchecked exception of the error vocabulary: a kind plus a message fit for the caller. */
public class EngineException extends RuntimeException {
    private final ErrorKind kind;

    public EngineException(ErrorKind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public EngineException(ErrorKind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public ErrorKind kind() {
        return kind;
    }

    public static EngineException notFound(String message) {
        return new EngineException(ErrorKind.NOT_FOUND, message);
    }

    public static EngineException invalid(String message) {
        return new EngineException(ErrorKind.INVALID_ARGUMENT, message);
    }

    public static EngineException conflict(String message) {
        return new EngineException(ErrorKind.CONFLICT, message);
    }
}
