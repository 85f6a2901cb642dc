package io.dockgate.gateway.authz;

import io.dockgate.config.policy.Policy;
import java.util.Optional;

/**
 * How one operation's request is judged against a binding, beyond whether the binding grants the
 * operation: its constraints on the typed body (or on the target, or the query), the objects of other
 * owners it would reach, and whether it counts against the container quota. Each operation names its
 * judge in its descriptor; the authorizer asks nothing else about the operation.
 */
public interface Judge {
    /** No constraints apply to the operation. */
    Judge NOTHING = (c, facts) -> null;

    /** Why the request breaks the constraints, or null when it keeps them (not asked without constraints). */
    String violation(Policy.Constraints c, RequestFacts facts);

    /** Under scope "own": why the request reaches another owner's objects, or empty. */
    default Optional<String> foreignObjects(RequestFacts facts, String owner) {
        return Optional.empty();
    }

    /**
     * Under scope "own": the image the request names that the caller's namespace of image names does not
     * reach (another owner's, or none at all), as Docker's answer for a missing image; empty when it does.
     */
    default Optional<String> unreachableImage(RequestFacts facts) {
        return Optional.empty();
    }

    /**
     * Whether judging reads the image store (an image a path or body names): then the decision runs on a
     * worker, as the store's lock is held for the length of a load, an import or a commit.
     */
    default boolean readsImages() {
        return false;
    }

    /** Whether the request creates a container, counted against the binding's container quota. */
    default boolean createsContainer() {
        return false;
    }
}
