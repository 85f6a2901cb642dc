package io.dockgate.gateway.http;

import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where error kinds become HTTP statuses and Docker's {@code {"message": ...}} body.
 * Internal faults are logged in full with the request id; the caller gets only the id.
 */
public final class ErrorResponses {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorResponses.class);

    private ErrorResponses() {
    }

    public static int status(ErrorKind kind) {
        return switch (kind) {
            case INVALID_ARGUMENT -> 400;
            case UNAUTHENTICATED -> 401;
            case PERMISSION_DENIED -> 403;
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
            case NOT_MODIFIED -> 304;
            case TOO_LARGE -> 413;
            case RESOURCE_EXHAUSTED -> 429;
            case NOT_IMPLEMENTED -> 501;
            case UNAVAILABLE -> 503;
            case BAD_GATEWAY -> 502;
            case RUNTIME, INTERNAL -> 500;
        };
    }

    /** Writes the error for a failure, unless the response has already started (then it is closed). */
    public static void send(HttpServerResponse response, HttpMethod method, String requestId, Throwable failure) {
        if (response.closed() || ClientGone.is(failure)) {
            LOG.debug("request {}: the client went away: {}", requestId, failure.toString());
            if (!response.closed()) {
                response.reset();
            }
            return;
        }
        ErrorKind kind;
        String message;
        if (failure instanceof EngineException e) {
            kind = e.kind();
            message = e.getMessage();
            if (kind == ErrorKind.INTERNAL) {
                LOG.error("request {}: {}", requestId, e.getMessage(), e);
                message = "internal error (request " + requestId + ")";
            }
        } else {
            kind = ErrorKind.INTERNAL;
            LOG.error("request {}: unexpected failure", requestId, failure);
            message = "internal error (request " + requestId + ")";
        }
        if (response.headWritten()) {
            LOG.warn("request {}: failed after the response started: {}", requestId, message);
            response.reset();
            return;
        }
        int status = status(kind);
        if (status == 304 || method == HttpMethod.HEAD) {
            response.setStatusCode(status).end();
            return;
        }
        Responses.json(response, status, Map.of("message", message));
    }
}
