package io.dockgate.gateway.authz;

import java.util.Optional;

/**
 * The container a request acts on, as far as ownership goes: none (the operation has no container
 * target), missing (no such container or exec), or found with its owner key (empty: created without one).
 */
public record Target(boolean applies, boolean exists, Optional<String> owner) {
    public static final Target NONE = new Target(false, false, Optional.empty());

    public static Target missing() {
        return new Target(true, false, Optional.empty());
    }

    public static Target ownedBy(String owner) {
        return new Target(true, true, Optional.ofNullable(owner));
    }

    boolean belongsTo(String key) {
        return exists && owner.isPresent() && owner.get().equals(key);
    }
}
