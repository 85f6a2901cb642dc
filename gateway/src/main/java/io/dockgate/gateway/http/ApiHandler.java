package io.dockgate.gateway.http;

import io.vertx.core.Future;

/**
 * A route's handler: translates the request, delegates to the engine, writes the answer. It returns a
 * future that completes when the response is done; a failure before the response started is turned
 * into Docker's JSON error by {@link ErrorResponses}.
 */
@FunctionalInterface
public interface ApiHandler {
    Future<?> handle(ApiRequest request);
}
