package io.dockgate.gateway.authz;

import io.dockgate.engine.EngineException;
import java.util.Map;
import java.util.Optional;

/**
 * The object a request acts on, as far as ownership goes: none (the operation has no owned target),
 * missing (no such container, exec or volume), or found with its owner key (empty: created without one),
 * and its full ID where the lookup gave one (upstream mode acts on that ID, not on the name judged).
 */
public record Target(boolean applies, boolean exists, Optional<String> owner, boolean shared, Optional<String> id) {
    public static final Target NONE = new Target(false, false, Optional.empty(), false, Optional.empty());

    /**
     * What kind of owned object an operation's path names, the path parameter that names it, and how a
     * missing one is answered (another owner's answers exactly the same).
     */
    public enum Kind {
        /** No owned object in the path (lists, creates, images, system). */
        NONE(null),
        CONTAINER("id"),
        /** An exec session: owned by the owner of its container. */
        EXEC("id"),
        VOLUME("name"),
        /** A network: the predefined ones are everyone's. */
        NETWORK("id"),
        /** A container named by the query ({@code POST /commit?container=}). */
        CONTAINER_IN_QUERY("container");

        private final String param;

        Kind(String param) {
            this.param = param;
        }

        /** Whether the query names the target (else the path does). */
        public boolean inQuery() {
            return this == CONTAINER_IN_QUERY;
        }

        /** The path parameter that names the target, null for {@link #NONE}. */
        public String param() {
            return param;
        }

        /** The reference the path gives, or null. */
        public String reference(Map<String, String> params) {
            return param == null ? null : params.get(param);
        }

        /** Docker's answer for a missing object of this kind. */
        public EngineException notFound(Map<String, String> params) {
            String ref = params.getOrDefault(param == null ? "" : param, "");
            return switch (this) {
                case EXEC -> EngineException.notFound("No such exec instance: " + ref);
                case VOLUME -> EngineException.notFound("get " + ref + ": no such volume");
                case NETWORK -> EngineException.notFound("network " + ref + " not found");
                default -> EngineException.notFound("No such container: " + ref);
            };
        }
    }

    public static Target missing() {
        return new Target(true, false, Optional.empty(), false, Optional.empty());
    }

    public static Target ownedBy(String owner) {
        return new Target(true, true, Optional.ofNullable(owner), false, Optional.empty());
    }

    /** An object every caller may use (the predefined networks). */
    public static Target everyones() {
        return new Target(true, true, Optional.empty(), true, Optional.empty());
    }

    /** The same target with the full ID the lookup found. */
    public Target withId(String fullId) {
        return new Target(applies, exists, owner, shared, fullId == null || fullId.isEmpty() ? Optional.empty() : Optional.of(fullId));
    }

    boolean belongsTo(String key) {
        return exists && (shared || owner.isPresent() && owner.get().equals(key));
    }
}
