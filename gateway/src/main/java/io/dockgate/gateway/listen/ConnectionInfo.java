package io.dockgate.gateway.listen;

import io.dockgate.gateway.auth.Principal;
import io.netty.channel.Channel;
import io.vertx.core.Future;
import io.vertx.core.http.HttpConnection;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A live client connection: its channel, where it came from and who is on it, and what it is doing (requests
 * in progress, hijacked, refused for its identity's connection limit). The principal is a future because
 * resolving Unix account names reads files, which never happens on an event loop.
 */
public final class ConnectionInfo {
    private final long id;
    private final HttpConnection connection;
    private final Channel channel;
    private final String remote;
    private final Future<Principal> principal;
    private final Instant opened;
    private final AtomicInteger inProgress = new AtomicInteger();
    private volatile boolean hijacked;
    private volatile String refusal;
    private Runnable release;
    private boolean closed;

    ConnectionInfo(long id, HttpConnection connection, Channel channel, String remote, Future<Principal> principal, Instant opened) {
        this.id = id;
        this.connection = connection;
        this.channel = channel;
        this.remote = remote;
        this.principal = principal;
        this.opened = opened;
    }

    public long id() {
        return id;
    }

    public HttpConnection connection() {
        return connection;
    }

    public Channel channel() {
        return channel;
    }

    public String remote() {
        return remote;
    }

    public Future<Principal> principal() {
        return principal;
    }

    public Instant opened() {
        return opened;
    }

    /** Closes the connection at the socket level (also cuts hijacked streams). */
    public void close() {
        channel.close();
    }

    /** A request arrived on this connection (the pipeline calls it first). */
    public void requestStarted() {
        inProgress.incrementAndGet();
    }

    /** Its response ended, or the connection became a raw stream (status 101). */
    public void requestEnded(boolean hijack) {
        if (hijack) {
            hijacked = true;
        }
        inProgress.decrementAndGet();
    }

    /** No request in progress and not a raw stream: the connection only waits for the client's next request. */
    boolean idle() {
        return inProgress.get() <= 0 && !hijacked;
    }

    /** Why requests on this connection are refused (its identity holds too many), if they are. */
    public Optional<String> refusal() {
        return Optional.ofNullable(refusal);
    }

    void refuse(String reason) {
        this.refusal = reason;
    }

    /** What to undo when the connection closes (its place in its identity's count); at once if already closed. */
    void onClose(Runnable action) {
        boolean now;
        synchronized (this) {
            now = closed;
            if (!now) {
                release = action;
            }
        }
        if (now) {
            action.run();
        }
    }

    void closed() {
        Runnable r;
        synchronized (this) {
            closed = true;
            r = release;
            release = null;
        }
        if (r != null) {
            r.run();
        }
    }
}
