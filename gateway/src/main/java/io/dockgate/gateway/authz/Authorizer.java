package io.dockgate.gateway.authz;

import io.dockgate.config.policy.Policy;
import io.dockgate.gateway.auth.Principal;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Decides every request against the policy in force (replaced atomically on reload; decisions are never
 * cached). Without a policy every authenticated caller may do everything, as with dockerd. With one,
 * deny by default: a request is allowed by the first binding, in file order, whose subjects name the
 * caller, whose operations include the request's, whose constraints the body satisfies, whose quota is
 * not reached and, when scoped to the caller's own objects, whose target belongs to the caller.
 *
 * <p>Two phases, so that a caller who may not do an operation at all is refused before its body is read:
 * {@link #candidates} (subject and operation), then {@link #decide} (body, quota, ownership).
 */
public final class Authorizer {
    /** The label that records who created a container. Clients may not set it. */
    public static final String OWNER_LABEL = io.dockgate.engine.container.ContainerSpec.OWNER_LABEL;

    private final AtomicReference<Policy> policy = new AtomicReference<>();
    private final boolean dryRunFlag;

    public Authorizer(Optional<Policy> initial, boolean dryRun) {
        initial.ifPresent(policy::set);
        this.dryRunFlag = dryRun;
    }

    public Optional<Policy> policy() {
        return Optional.ofNullable(policy.get());
    }

    /** Puts a new (validated) policy in force for every request that starts from now on. */
    public void install(Policy next) {
        policy.set(next);
    }

    public boolean dryRun() {
        Policy p = policy.get();
        return dryRunFlag || (p != null && p.mode() == Policy.Mode.DRY_RUN);
    }

    /** The bindings that name the caller and grant the operation, under one policy snapshot. */
    public record Candidates(Policy policy, List<Policy.Binding> bindings, String owner, boolean dryRun) {
        public boolean unrestricted() {
            return policy == null;
        }
    }

    public Candidates candidates(Principal principal, String operation) {
        Policy p = policy.get();
        String owner = Subjects.ownerKey(principal);
        if (p == null) {
            return new Candidates(null, List.of(), owner, dryRunFlag);
        }
        List<Policy.Binding> found = new ArrayList<>();
        for (Policy.Binding b : p.bindings()) {
            if (b.operations().contains(operation) && b.subjects().stream().anyMatch(s -> Subjects.matches(s, principal))) {
                found.add(b);
            }
        }
        return new Candidates(p, found, owner, dryRunFlag || p.mode() == Policy.Mode.DRY_RUN);
    }

    /** Phase one's verdict: a denial when nothing grants the operation, else empty (go on to phase two). */
    public Optional<Decision> early(Candidates c, Principal principal, String operation) {
        if (c.unrestricted() || !c.bindings().isEmpty()) {
            return Optional.empty();
        }
        Decision d = new Decision(false, true, "default-deny",
                "no binding grants " + operation + " to " + describe(principal), false, Optional.empty(), c.owner());
        return Optional.of(c.dryRun() ? d.asDryRun() : d);
    }

    /** Phase two: ownership of the target, then the operation's judge (constraints on the body, quotas, others' objects). */
    public Decision decide(Candidates c, Principal principal, String operation, Judge judge, RequestFacts facts, Target target) {
        if (c.unrestricted()) {
            return new Decision(true, true, "no-policy", "no authorization policy", false, Optional.empty(), c.owner());
        }
        Optional<Decision> none = early(c, principal, operation);
        if (none.isPresent()) {
            return none.get();
        }
        String reason = null;
        boolean notFound = false;
        Policy.Binding firstPassing = null;
        for (Policy.Binding b : c.bindings()) {
            // ownership first: another's object answers exactly as a missing one, before any constraint could
            // tell that it exists (and, for an exec, how it runs)
            if (b.scope() == Policy.Scope.OWN && target.applies() && !target.belongsTo(c.owner())) {
                if (reason == null) {
                    reason = target.exists() ? "the container belongs to another owner" : "no such object";
                    notFound = true;
                }
                continue;
            }
            RequestFacts seen = facts.inImages(Decision.namespace(b, c.owner())); // image names as this binding's caller speaks them
            Optional<String> violation = ConstraintChecker.check(judge, b.constraints(), seen);
            if (violation.isEmpty() && judge.createsContainer() && b.limits().containers().isPresent()
                    && facts.lookups().ownedContainers(c.owner()) >= b.limits().containers().getAsLong()) {
                violation = Optional.of("container quota of " + b.limits().containers().getAsLong() + " reached");
            }
            if (violation.isEmpty() && b.scope() == Policy.Scope.OWN) {
                violation = judge.foreignObjects(seen, c.owner());
            }
            if (violation.isEmpty() && b.scope() == Policy.Scope.OWN) {
                // an image outside the caller's namespace is missing to it: Docker's 404 (a run then pulls), audited
                Optional<String> unseen = judge.unreachableImage(seen);
                if (unseen.isPresent()) {
                    if (reason == null) {
                        reason = unseen.get();
                        notFound = true;
                    }
                    continue;
                }
            }
            if (violation.isPresent()) {
                if (reason == null) {
                    reason = violation.get() + " (binding " + b.name() + ")";
                }
                continue;
            }
            if (target.applies() || b.scope() == Policy.Scope.ALL) {
                return allow(b, c);
            }
            if (firstPassing == null) {
                firstPassing = b; // a list under "own": a later binding may show everything
            }
        }
        if (firstPassing != null) {
            return allow(firstPassing, c);
        }
        Decision d = new Decision(false, true, c.bindings().get(0).name(), reason, notFound, Optional.empty(), c.owner());
        return c.dryRun() ? d.asDryRun() : d;
    }

    private static Decision allow(Policy.Binding b, Candidates c) {
        return new Decision(true, true, b.name(), "granted by binding " + b.name(), false, Optional.of(b), c.owner());
    }

    static String describe(Principal p) {
        return p.transport().wireName() + " caller \"" + p.name() + "\"" + (p.groups().isEmpty() ? "" : " (groups " + p.groups() + ")");
    }
}
