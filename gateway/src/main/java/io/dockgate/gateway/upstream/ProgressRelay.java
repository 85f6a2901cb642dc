package io.dockgate.gateway.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.gateway.request.DockerJson;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.parsetools.RecordParser;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * An upstream's JSON-lines progress (pull, import, load, build) passed on line by line as it comes, with
 * back-pressure; each message is shown to a watcher (the image made, the names loaded), and when the
 * stream ends, what the watcher records (told whether an error message came) is done before the caller's
 * answer ends: its next command may use what was made.
 */
final class ProgressRelay {
    private ProgressRelay() {
    }

    static Future<Void> relay(HttpClientResponse resp, HttpServerResponse response, Consumer<JsonNode> watcher,
                              Function<Boolean, Future<Void>> atEnd) {
        Promise<Void> done = Promise.promise();
        boolean[] failed = {false};
        RecordParser lines = RecordParser.newDelimited("\n", resp);
        lines.maxRecordSize(1 << 20);
        lines.handler(line -> {
            try {
                JsonNode m = DockerJson.MAPPER.readTree(line.getBytes());
                if (m != null && (m.hasNonNull("error") || m.hasNonNull("errorDetail"))) {
                    failed[0] = true;
                } else if (m != null) {
                    watcher.accept(m);
                }
            } catch (java.io.IOException | RuntimeException e) {
                // not JSON: passed on as it is
            }
            response.write(line.copy().appendString("\n"));
            if (response.writeQueueFull()) {
                lines.pause();
                response.drainHandler(v -> lines.resume());
            }
        });
        lines.exceptionHandler(e -> {
            resp.request().reset();
            done.tryFail(new EngineException(ErrorKind.BAD_GATEWAY, "the upstream's progress broke off: " + e.getMessage()));
        });
        lines.endHandler(v -> atEnd.apply(failed[0] || resp.statusCode() / 100 != 2).recover(e -> Future.succeededFuture())
                .compose(x -> response.end()).onComplete(done));
        return done.future();
    }
}
