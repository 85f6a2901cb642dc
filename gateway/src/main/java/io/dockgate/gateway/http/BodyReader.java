package io.dockgate.gateway.http;

import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;

/**
 * Reads a request body in full, whatever Content-Length or Transfer-Encoding said, up to a limit; over
 * it the request fails with 413 and the rest is not read (fail closed).
 */
final class BodyReader {
    private BodyReader() {
    }

    static Future<byte[]> read(HttpServerRequest http, long limit) {
        Promise<byte[]> promise = Promise.promise();
        Buffer body = Buffer.buffer();
        http.handler(chunk -> {
            if (promise.future().isComplete()) {
                return;
            }
            if (body.length() + chunk.length() > limit) {
                // refused now; the rest is read and dropped while the 413 goes out, then the connection closes
                promise.tryFail(new EngineException(ErrorKind.TOO_LARGE, "request body exceeds the limit of " + limit + " bytes"));
                return;
            }
            body.appendBuffer(chunk);
        });
        http.endHandler(v -> promise.tryComplete(body.getBytes()));
        http.exceptionHandler(promise::tryFail);
        http.resume();
        return promise.future();
    }
}
