package io.dockgate.gateway.audit;

import com.fasterxml.jackson.core.JsonGenerator;
import io.dockgate.gateway.auth.Principal;
import java.io.IOException;

/**
 * One kind of record per thing the audit log tells, each written with its fields in a fixed order (the
 * chain hashes the bytes, so the order is part of the format). Optional fields are null and left out;
 * a decision's operation is written as null when no route was found.
 */
public sealed interface AuditRecord {
    /** Writes the fields after {@code seq} and {@code prev}, as the rest of one JSON object. */
    void write(JsonGenerator g) throws IOException;

    /** Who asked for what: the request part of a decision. */
    record Request(String remote, String method, String uri, Principal principal, String operation, String target) {
        void write(JsonGenerator g) throws IOException {
            g.writeStringField("remote", remote);
            g.writeStringField("method", method);
            g.writeStringField("uri", uri);
            writePrincipal(g, principal);
            g.writeStringField("operation", operation);
            optional(g, "target", target);
        }
    }

    /** A request's decision: written, and waited for, before the handler runs or the refusal is sent. */
    record Decision(String time, String id, Request request, String decision, String rule, String reason, int status)
            implements AuditRecord {
        @Override
        public void write(JsonGenerator g) throws IOException {
            g.writeStringField("type", "decision");
            g.writeStringField("time", time);
            g.writeStringField("id", id);
            request.write(g);
            g.writeStringField("decision", decision);
            g.writeStringField("rule", rule);
            g.writeStringField("reason", reason);
            if (status > 0) {
                g.writeNumberField("status", status);
            }
        }
    }

    /**
     * What a build used and made, once it ended (its request's decision is above it, with the tags in the
     * query): the base images as the Dockerfile named them, each with the image ID it was, and the image
     * made ("" when the build failed).
     */
    record Build(String time, String id, java.util.List<String> bases, String image) implements AuditRecord {
        @Override
        public void write(JsonGenerator g) throws IOException {
            g.writeStringField("type", "build");
            g.writeStringField("time", time);
            g.writeStringField("id", id);
            g.writeArrayFieldStart("bases");
            for (String b : bases) {
                g.writeString(b);
            }
            g.writeEndArray();
            g.writeStringField("image", image);
        }
    }

    /** A request's end: status (101 when its connection became a raw stream), bytes, duration. */
    record Outcome(String time, String id, int status, long bytes, double ms, boolean closed) implements AuditRecord {
        @Override
        public void write(JsonGenerator g) throws IOException {
            g.writeStringField("type", "outcome");
            g.writeStringField("time", time);
            g.writeStringField("id", id);
            g.writeNumberField("status", status);
            g.writeNumberField("bytes", bytes);
            g.writeNumberField("ms", ms);
            if (closed) {
                g.writeBooleanField("closed", true);
            }
        }
    }

    /** Bytes the framing guard refused before they became an HTTP request (a decision without an operation). */
    record FramingRefusal(String time, String id, String remote, Principal principal, String request, String reason)
            implements AuditRecord {
        @Override
        public void write(JsonGenerator g) throws IOException {
            g.writeStringField("type", "decision");
            g.writeStringField("time", time);
            g.writeStringField("id", id);
            g.writeStringField("remote", remote);
            writePrincipal(g, principal);
            g.writeStringField("request", request);
            g.writeNullField("operation");
            g.writeStringField("decision", "deny");
            g.writeStringField("rule", "request-model");
            g.writeStringField("reason", reason);
        }
    }

    /** A TLS handshake refused (bad, expired, revoked or unknown certificate). */
    record HandshakeRefusal(String time, String listener, String remote, String reason, String subject, String serial)
            implements AuditRecord {
        @Override
        public void write(JsonGenerator g) throws IOException {
            g.writeStringField("type", "handshake");
            g.writeStringField("time", time);
            g.writeStringField("listener", listener);
            g.writeStringField("remote", remote);
            g.writeStringField("decision", "deny");
            g.writeStringField("reason", reason);
            if (subject != null) {
                g.writeStringField("subject", subject);
                g.writeStringField("serial", serial);
            }
        }
    }

    /** A policy file reloaded, or a reload refused (the policy in force stays). */
    record PolicyReload(String time, boolean reloaded, String file, String reason) implements AuditRecord {
        @Override
        public void write(JsonGenerator g) throws IOException {
            g.writeStringField("type", "policy");
            g.writeStringField("time", time);
            g.writeStringField("event", reloaded ? "reloaded" : "reload-refused");
            g.writeStringField("file", file);
            optional(g, "reason", reason);
        }
    }

    /** At open: a torn last line (a crash while writing) was cut. */
    record Recovery(long tornBytes) implements AuditRecord {
        @Override
        public void write(JsonGenerator g) throws IOException {
            g.writeStringField("type", "recovery");
            g.writeNumberField("tornBytes", tornBytes);
        }
    }

    /** The caller, as an object: transport, name, groups, then the certificate's or the peer's identity. */
    private static void writePrincipal(JsonGenerator g, Principal p) throws IOException {
        if (p == null) {
            return;
        }
        g.writeObjectFieldStart("principal");
        g.writeStringField("transport", p.transport().wireName());
        g.writeStringField("name", p.name());
        g.writeArrayFieldStart("groups");
        for (String group : p.groups()) {
            g.writeString(group);
        }
        g.writeEndArray();
        if (p.certificate().isPresent()) {
            g.writeStringField("subject", p.certificate().get().subject());
            g.writeStringField("serial", p.certificate().get().serial());
            g.writeStringField("fingerprint", p.certificate().get().fingerprint());
        }
        if (p.peer().isPresent()) {
            g.writeNumberField("uid", p.peer().get().uid());
            g.writeNumberField("gid", p.peer().get().gid());
            g.writeNumberField("pid", p.peer().get().pid());
        }
        g.writeEndObject();
    }

    private static void optional(JsonGenerator g, String name, String value) throws IOException {
        if (value != null) {
            g.writeStringField(name, value);
        }
    }
}
