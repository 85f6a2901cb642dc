package io.dockgate.gateway.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.config.policy.Operations;
import io.dockgate.gateway.authz.Judge;
import io.dockgate.gateway.authz.Target;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * Everything the daemon knows about one operation, declared once: its policy name and kind (from the
 * policy vocabulary, {@link Operations}), the owned object its path names, its body (none, a stream the
 * handler reads, or JSON parsed once into a typed model), whether it holds its request open or hijacks
 * the connection, and how it is judged. Routing, the framing guard's hijack classification, the
 * authorizer's target lookup and constraints, the tenancy check, the stream limits and the audit all
 * read their facts from here.
 */
public record Operation(String name, Operations.Kind kind, Target.Kind target, Body body, Function<JsonNode, ?> model,
                        Streaming streaming, boolean hijacks, boolean hostPaths, boolean stampsOwner, Judge judge) {

    /** What the request body is to the pipeline. */
    public enum Body {
        /** None: whatever is sent is read and dropped. */
        NONE,
        /** Read by the handler as a stream (uploads: load, import, archive, pull's registry auth). */
        STREAM,
        /** Read in full (up to the limit), parsed under the strict rules, translated into the model. */
        JSON
    }

    /** Whether a request holds its connection open (counted against the per-identity stream limit). */
    public enum Streaming {
        NEVER, ALWAYS,
        /** Only with {@code follow} true (logs). */
        WHEN_FOLLOW,
        /** Unless {@code stream} is false (stats). */
        UNLESS_STREAM_FALSE;

        private static final Set<String> FALSE = Set.of("", "0", "false", "no");

        public boolean holdsOpen(Function<String, String> query) {
            return switch (this) {
                case NEVER -> false;
                case ALWAYS -> true;
                case WHEN_FOLLOW -> {
                    String v = query.apply("follow");
                    yield v != null && !FALSE.contains(v.toLowerCase(Locale.ROOT));
                }
                case UNLESS_STREAM_FALSE -> {
                    String v = query.apply("stream");
                    yield v == null || v.isEmpty() || !FALSE.contains(v.toLowerCase(Locale.ROOT));
                }
            };
        }
    }

    /** An operation of the policy vocabulary, with no target, no body, no stream and no constraints. */
    public static Operation named(String name) {
        return new Operation(name, Operations.kind(name), Target.Kind.NONE, Body.NONE, null, Streaming.NEVER, false, false,
                false, Judge.NOTHING);
    }

    public Operation on(Target.Kind kind) {
        return new Operation(name, this.kind, kind, body, model, streaming, hijacks, hostPaths, stampsOwner, judge);
    }

    /** A JSON body, translated once by {@code translate} into what the authorizer judges and the handler runs. */
    public Operation json(Function<JsonNode, ?> translate) {
        return new Operation(name, kind, target, Body.JSON, translate, streaming, hijacks, hostPaths, stampsOwner, judge);
    }

    public Operation streamingBody() {
        return new Operation(name, kind, target, Body.STREAM, null, streaming, hijacks, hostPaths, stampsOwner, judge);
    }

    /**
     * A streamed body whose request is in the query (build): {@code fromQuery} translates the query (an
     * object of its parameters, a repeated one as an array) into what the authorizer judges and the
     * handler runs.
     */
    public Operation streamingBody(Function<JsonNode, ?> fromQuery) {
        return new Operation(name, kind, target, Body.STREAM, fromQuery, streaming, hijacks, hostPaths, stampsOwner, judge);
    }

    public Operation streaming(Streaming s) {
        return new Operation(name, kind, target, body, model, s, hijacks, hostPaths, stampsOwner, judge);
    }

    /** The connection may become a raw stream (attach, exec start): it carries no further request. */
    public Operation hijacking() {
        return new Operation(name, kind, target, body, model, Streaming.ALWAYS, true, hostPaths, stampsOwner, judge);
    }

    /** The judge resolves host paths on disk (symbolic links): it runs on a worker, not the event loop. */
    public Operation resolvesHostPaths() {
        return new Operation(name, kind, target, body, model, streaming, hijacks, true, stampsOwner, judge);
    }

    /** The operation creates an object labelled with its owner: a client's own owner label is refused. */
    public Operation stampingOwner() {
        return new Operation(name, kind, target, body, model, streaming, hijacks, hostPaths, true, judge);
    }

    public Operation judgedBy(Judge j) {
        return new Operation(name, kind, target, body, model, streaming, hijacks, hostPaths, stampsOwner, j);
    }

    @Override
    public String toString() {
        return name;
    }
}
