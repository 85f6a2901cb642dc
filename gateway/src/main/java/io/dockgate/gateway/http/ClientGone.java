package io.dockgate.gateway.http;

import io.vertx.core.http.HttpServerRequest;

/**
 * Whether a failure only says that the client went away (closed or reset its connection mid-request or
 * mid-stream). That is no fault of the daemon's: it is logged at debug level, never as an internal error.
 */
public final class ClientGone {
    private ClientGone() {
    }

    /** True when the request's connection is closed, or the failure (or a cause) is a closed or reset connection. */
    public static boolean is(HttpServerRequest request, Throwable failure) {
        return request != null && request.response().closed() || is(failure);
    }

    /**
     * The failure comes from this request's own connection: Vert.x's closed-connection failure, a native
     * socket error of the server's channel, or the request-body and response streams saying their client
     * left. Failures of the daemon's outbound connections (a registry's "connection refused" or "reset")
     * are not the client's and do not count.
     */
    public static boolean is(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof io.vertx.core.http.HttpClosedException || t instanceof io.netty.channel.unix.Errors.NativeIoException) {
                return true;
            }
            String m = t.getMessage();
            if (m != null && (m.startsWith(io.dockgate.gateway.stream.RequestBodyStream.FAILED)
                    || m.equals(io.dockgate.gateway.stream.ResponseOutputStream.CLIENT_CLOSED))) {
                return true;
            }
        }
        return false;
    }
}
