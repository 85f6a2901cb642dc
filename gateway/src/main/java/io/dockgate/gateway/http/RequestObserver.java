package io.dockgate.gateway.http;

/**
 * Watches requests go through the pipeline: the model each decision was made on, and the request each
 * handler is given. Tests use it to prove that the object the policy judged is the object the handler
 * executes; the daemon runs without one.
 */
public interface RequestObserver {
    RequestObserver NONE = new RequestObserver() {
    };

    /** The authorizer decided on this body model (null for operations without a JSON body). */
    default void judged(Operation operation, Object model) {
    }

    /** The handler is about to run with this request. */
    default void handling(Operation operation, ApiRequest request) {
    }
}
