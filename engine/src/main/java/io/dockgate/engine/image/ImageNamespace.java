package io.dockgate.engine.image;

import java.util.function.Predicate;

/**
 * Whose image names a caller speaks in. The common namespace (owner "") is dockerd's one set of names:
 * callers without tenancy use it, and it reaches every image by ID. A tenant's namespace (its owner key)
 * holds the names it made (load, import, pull, tag, build, commit) and reaches the images it holds, plus
 * the common names {@code shared} admits (the policy's {@code shared} patterns), read-only.
 */
public record ImageNamespace(String owner, Predicate<Reference> shared) {
    /** dockerd's single namespace: what every caller uses without a policy scoping it. */
    public static final ImageNamespace COMMON = new ImageNamespace("", r -> false);

    public ImageNamespace {
        owner = owner == null ? "" : owner;
        shared = shared == null ? r -> false : shared;
    }

    /** A tenant's namespace; an empty owner is the common one. */
    public static ImageNamespace of(String owner, Predicate<Reference> shared) {
        return owner == null || owner.isEmpty() ? COMMON : new ImageNamespace(owner, shared);
    }

    public boolean common() {
        return owner.isEmpty();
    }

    @Override
    public String toString() {
        return common() ? "common" : owner;
    }
}
