package io.dockgate.gateway.authz;

import java.util.Map;

/**
 * Where the authorizer's facts come from: the embedded engine's in-memory indexes ({@link EngineFacts}),
 * or the guarded upstream engine, asked over its API ({@code upstream.UpstreamFacts}).
 */
public interface Facts extends RequestFacts.Lookups {
    /**
     * The owned object a request's path names (by the operation's target kind), with its owner. A container
     * ID prefix that several containers share names the caller's own ({@code owner}) when it has exactly one
     * of them (the target then carries that container's full ID); else it is missing, revealing nothing.
     */
    Target target(Target.Kind kind, Map<String, String> params, String owner);

    /** Whether looking a fact up waits for I/O: then decisions that need facts run on a worker thread. */
    default boolean blocking() {
        return false;
    }
}
