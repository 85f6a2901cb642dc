package io.dockgate.gateway.stream;

import io.dockgate.gateway.http.Responses;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Docker's JSON-message streams (load, import, pull): 200, chunked {@code application/json}, one object
 * per line. Failures after the stream started are sent as {@code errorDetail} (and the legacy
 * {@code error}): the docker CLI fails on errorDetail.
 */
public final class JsonMessageStream {
    private final HttpServerResponse response;

    /** Starts the stream (headers go out at once). Call on the event loop. */
    public JsonMessageStream(HttpServerResponse response) {
        this.response = response;
        response.setStatusCode(200).setChunked(true).putHeader("Content-Type", Responses.JSON);
    }

    public Future<Void> stream(String text) {
        return message(Map.of("stream", text));
    }

    public Future<Void> status(String text) {
        return message(Map.of("status", text));
    }

    public Future<Void> error(String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("errorDetail", Map.of("message", message));
        body.put("error", message);
        return message(body);
    }

    public Future<Void> message(Map<String, ?> body) {
        try {
            return response.write(Buffer.buffer(Responses.MAPPER.writeValueAsBytes(body)).appendByte((byte) '\n'));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return Future.failedFuture(e);
        }
    }

    public Future<Void> end() {
        return response.end();
    }
}
