package io.dockgate.gateway.authz;

import io.dockgate.gateway.auth.Principal;
import java.util.Map;

/**
 * What an allowed request may see, for handlers that list or show objects: under a binding scoped to
 * the caller's own objects, only containers carrying the caller's owner label; the environment in
 * inspect only with the {@code container.inspect.env} right.
 */
public final class Access {
    private final Decision decision;
    private final Authorizer authorizer;
    private final Principal principal;

    public Access(Decision decision, Authorizer authorizer, Principal principal) {
        this.decision = decision;
        this.authorizer = authorizer;
        this.principal = principal;
    }

    /** Everything visible, every right: no policy (tests of handlers, the daemon without --authz-policy). */
    public static Access unrestricted(Principal principal) {
        return new Access(new Decision(true, true, "no-policy", "no authorization policy", false, java.util.Optional.empty(),
                Subjects.ownerKey(principal)), new Authorizer(java.util.Optional.empty(), false), principal);
    }

    public Decision decision() {
        return decision;
    }

    /** The caller's owner key, stamped on what it creates. */
    public String owner() {
        return decision.owner();
    }

    /** The namespace of image names the caller speaks in (see {@link Decision#images()}). */
    public io.dockgate.engine.image.ImageNamespace images() {
        return decision.images();
    }

    public boolean ownScope() {
        return decision.ownScope();
    }

    /** Whether an object with these labels is visible to the caller. */
    public boolean sees(Map<String, String> labels) {
        if (!decision.ownScope()) {
            return true;
        }
        return labels != null && decision.owner().equals(labels.get(Authorizer.OWNER_LABEL));
    }

    /** Whether the caller holds a right (an operation name), under the policy in force now. */
    public boolean may(String operation) {
        Authorizer.Candidates c = authorizer.candidates(principal, operation);
        return c.unrestricted() || c.dryRun() || !c.bindings().isEmpty();
    }
}
