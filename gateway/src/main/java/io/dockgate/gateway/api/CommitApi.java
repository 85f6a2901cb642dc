package io.dockgate.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.Engine;
import io.dockgate.engine.container.Commits;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.http.Blocking;
import io.dockgate.gateway.http.OperationCatalog;
import io.dockgate.gateway.http.Responses;
import io.vertx.core.Future;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /commit}: the query (container, repo, tag, comment, author, pause, repeated changes) and the
 * optional Config body translated into the engine's commit; 201 {@code {"Id": "sha256:..."}}.
 */
public final class CommitApi {
    /** The Config body (null when the client sent none or an empty one). */
    public record CommitConfig(JsonNode config) {
    }

    private final Engine engine;
    private final Blocking blocking;

    public CommitApi(Engine engine, Blocking blocking) {
        this.engine = engine;
        this.blocking = blocking;
    }

    public void register(OperationCatalog catalog) {
        catalog.add(OperationTable.CONTAINER_COMMIT, "POST", "/commit", this::commit);
    }

    static CommitConfig config(JsonNode body) {
        return new CommitConfig(body == null || body.isEmpty() ? null : body);
    }

    Future<?> commit(ApiRequest request) {
        String container = request.param("container"); // the query's, or the container the authorizer resolved it to
        List<String> changes = request.http().params().getAll("changes");
        String pause = request.query("pause").orElse("");
        Commits.CommitRequest r = new Commits.CommitRequest(request.query("repo").orElse(""), request.query("tag").orElse(""),
                request.query("comment").orElse(""), request.query("author").orElse(""),
                pause.isEmpty() || request.queryBool("pause"), changes, request.model(CommitConfig.class).config(),
                request.access().owner(), request.access().images());
        return blocking.run(() -> engine.containers().commit(container, r))
                .compose(image -> Responses.json(request, 201, Map.of("Id", image.id().toString())));
    }
}
