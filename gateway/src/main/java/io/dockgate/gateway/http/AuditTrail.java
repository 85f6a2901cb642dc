package io.dockgate.gateway.http;

import io.dockgate.gateway.audit.AuditLog;
import io.dockgate.gateway.auth.Principal;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The audit records of one request: its decision (written, and waited for, before the handler runs or
 * the refusal is sent) and its outcome (status, bytes, duration, when the response ends or the stream is
 * hijacked). Both carry the request id, so they pair up in the log.
 */
final class AuditTrail {
    private final AuditLog log;
    private final String id;
    private final long start = System.nanoTime();
    private final Map<String, Object> request = new LinkedHashMap<>();
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile boolean decided;
    private volatile Runnable onEnd = () -> { };
    private final java.util.function.IntConsumer finished;

    /** @param finished told the outcome's status once the request is over (101: it became a raw stream) */
    AuditTrail(AuditLog log, String id, HttpServerRequest http, java.util.function.IntConsumer finished) {
        this.log = log;
        this.id = id;
        this.finished = finished;
        request.put("remote", String.valueOf(http.remoteAddress()));
        request.put("method", http.method().name());
        request.put("uri", http.uri());
    }

    String id() {
        return id;
    }

    boolean decided() {
        return decided;
    }

    void principal(Principal p) {
        request.put("principal", p.describe());
    }

    void operation(String operation, Map<String, String> params) {
        request.put("operation", operation);
        String target = params.containsKey("id") ? params.get("id") : params.getOrDefault("name", null);
        if (target != null) {
            request.put("target", target);
        }
    }

    /** Runs when a (not hijacked) response ends or its connection closes. */
    void onEnd(Runnable action) {
        this.onEnd = action;
    }

    /** Writes the decision; the future completes once it is in the file. */
    Future<Void> decision(String decision, String rule, String reason, int status) {
        decided = true;
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("type", "decision");
        r.put("time", AuditLog.now());
        r.put("id", id);
        r.putAll(request);
        r.putIfAbsent("operation", null);
        r.put("decision", decision);
        r.put("rule", rule);
        r.put("reason", reason);
        if (status > 0) {
            r.put("status", status);
        }
        return log.append(r).recover(e -> Future.failedFuture(new io.dockgate.engine.EngineException(
                io.dockgate.engine.ErrorKind.UNAVAILABLE, "the audit log cannot be written: request refused")));
    }

    /** Records the outcome once. Status 101: the stream was hijacked; its connection's end is not awaited. */
    void outcome(int status, long bytes, boolean closed) {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("type", "outcome");
        r.put("time", AuditLog.now());
        r.put("id", id);
        r.put("status", status);
        r.put("bytes", bytes);
        r.put("ms", (System.nanoTime() - start) / 1_000_000.0);
        if (closed) {
            r.put("closed", true);
        }
        log.record(r);
        if (status != 101) {
            onEnd.run();
        }
        finished.accept(status);
    }
}
