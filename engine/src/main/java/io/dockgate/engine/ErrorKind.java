package io.dockgate.engine;

/**
 * The closed set of failure kinds every layer speaks, in the manner of containerd's errdefs. The
 * gateway maps each kind to an HTTP status in exactly one place; nothing else chooses a status.
 */
public enum ErrorKind {
    /** The request is malformed or a value is out of range (400). */
    INVALID_ARGUMENT,
    /** The caller is not identified (401). */
    UNAUTHENTICATED,
    /** The caller is identified but not allowed (403). */
    PERMISSION_DENIED,
    /** The object does not exist, or the caller may not know that it does (404). */
    NOT_FOUND,
    /** The object's state forbids the operation (409). */
    CONFLICT,
    /** Nothing to do: the object is already in the asked state (304). */
    NOT_MODIFIED,
    /** A request body exceeds the configured limit (413). */
    TOO_LARGE,
    /** The caller exceeded a rate or quota (429). */
    RESOURCE_EXHAUSTED,
    /** The route exists in Docker's API but dockgate does not implement it (501). */
    NOT_IMPLEMENTED,
    /** A dependency is temporarily unavailable (503). */
    UNAVAILABLE,
    /** The guarded upstream engine could not be reached or broke off its answer (502). */
    BAD_GATEWAY,
    /** The container runtime refused (no such executable, permission denied ...): 500 with its message. */
    RUNTIME,
    /** A fault of dockgate itself; details are logged, never sent (500). */
    INTERNAL
}
