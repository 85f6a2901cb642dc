package io.dockgate.gateway.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;

/** Writing answers in Docker's forms. Content-Type is exactly {@code application/json}: the CLI needs that. */
public final class Responses {
    public static final String JSON = "application/json";
    public static final ObjectMapper MAPPER = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    private Responses() {
    }

    public static Future<Void> json(ApiRequest request, int status, Object body) {
        return json(request.response(), status, body);
    }

    public static Future<Void> json(HttpServerResponse response, int status, Object body) {
        byte[] bytes;
        try {
            bytes = MAPPER.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new EngineException(ErrorKind.INTERNAL, "cannot encode response", e);
        }
        Buffer buffer = Buffer.buffer(bytes.length + 1).appendBytes(bytes).appendByte((byte) '\n');
        return response.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(buffer);
    }

    public static Future<Void> text(ApiRequest request, int status, String body) {
        return request.response().setStatusCode(status)
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8").end(body);
    }

    public static Future<Void> noContent(ApiRequest request) {
        return request.response().setStatusCode(204).end();
    }
}
