package io.dockgate.gateway.authz;

import io.dockgate.config.policy.Policy;
import java.util.Optional;

/**
 * The authorizer's answer for one request.
 *
 * @param allowed  whether the request may proceed as asked
 * @param enforced false in dry-run mode: a denial is recorded but the request proceeds
 * @param rule     the binding that decided, or {@code no-policy}, {@code default-deny}, {@code request-model}
 * @param reason   why (for denials: the text after "authorization denied by dockgate: ")
 * @param notFound a denial that must look like the object does not exist (another tenant's container)
 * @param binding  the binding that allowed, if any
 * @param owner    the caller's owner key (stamped on created containers)
 */
public record Decision(boolean allowed, boolean enforced, String rule, String reason, boolean notFound,
                       Optional<Policy.Binding> binding, String owner) {

    /** True when the request must be refused. */
    public boolean refuses() {
        return !allowed && enforced;
    }

    /** Whether the caller sees only its own objects (lists, events filtered). */
    public boolean ownScope() {
        return allowed && binding.isPresent() && binding.get().scope() == Policy.Scope.OWN;
    }

    /** The namespace of image names the caller speaks in: its own under scope own (with the binding's shared names), else the common one. */
    public io.dockgate.engine.image.ImageNamespace images() {
        return ownScope() ? namespace(binding.get(), owner) : io.dockgate.engine.image.ImageNamespace.COMMON;
    }

    /** A binding's namespace of image names for a caller. */
    static io.dockgate.engine.image.ImageNamespace namespace(Policy.Binding b, String owner) {
        if (b.scope() != Policy.Scope.OWN) {
            return io.dockgate.engine.image.ImageNamespace.COMMON;
        }
        return io.dockgate.engine.image.ImageNamespace.of(owner, ConstraintChecker.sharedImages(b.shared()));
    }

    public String decisionWord() {
        if (allowed) {
            return "allow";
        }
        return enforced ? "deny" : "would-deny";
    }

    Decision asDryRun() {
        return allowed ? this : new Decision(false, false, rule, reason, notFound, binding, owner);
    }
}
