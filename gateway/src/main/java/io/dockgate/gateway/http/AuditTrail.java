package io.dockgate.gateway.http;

import io.dockgate.gateway.audit.AuditLog;
import io.dockgate.gateway.audit.AuditRecord;
import io.dockgate.gateway.auth.Principal;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;
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
    private final String remote;
    private final String method;
    private final String uri;
    private volatile Principal principal;
    private volatile String operation;
    private volatile String target;
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile boolean decided;
    private volatile Runnable onEnd = () -> { };
    private final java.util.function.IntConsumer finished;

    /** @param finished told the outcome's status once the request is over (101: it became a raw stream) */
    AuditTrail(AuditLog log, String id, HttpServerRequest http, java.util.function.IntConsumer finished) {
        this.log = log;
        this.id = id;
        this.finished = finished;
        this.remote = String.valueOf(http.remoteAddress());
        this.method = http.method().name();
        this.uri = http.uri();
    }

    String id() {
        return id;
    }

    boolean decided() {
        return decided;
    }

    void principal(Principal p) {
        principal = p;
    }

    void operation(String operation, Map<String, String> params) {
        this.operation = operation;
        this.target = params.containsKey("id") ? params.get("id") : params.getOrDefault("name", null);
    }

    /** Runs when a (not hijacked) response ends or its connection closes. */
    void onEnd(Runnable action) {
        this.onEnd = action;
    }

    /** Writes the decision; the future completes once it is in the file. */
    Future<Void> decision(String decision, String rule, String reason, int status) {
        decided = true;
        AuditRecord.Decision r = new AuditRecord.Decision(AuditLog.now(), id,
                new AuditRecord.Request(remote, method, uri, principal, operation, target), decision, rule, reason, status);
        return log.append(r).recover(e -> Future.failedFuture(new io.dockgate.engine.EngineException(
                io.dockgate.engine.ErrorKind.UNAVAILABLE, "the audit log cannot be written: request refused")));
    }

    /** Records what a build used and made (before its outcome). */
    void build(java.util.List<String> bases, String image) {
        log.record(new AuditRecord.Build(AuditLog.now(), id, java.util.List.copyOf(bases), image));
    }

    /** Records the outcome once. Status 101: the stream was hijacked; its connection's end is not awaited. */
    void outcome(int status, long bytes, boolean closed) {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        AuditRecord.Outcome r = new AuditRecord.Outcome(AuditLog.now(), id, status, bytes, (System.nanoTime() - start) / 1_000_000.0,
                closed);
        log.record(r);
        if (status != 101) {
            onEnd.run();
        }
        finished.accept(status);
    }
}
