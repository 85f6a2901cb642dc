package io.dockgate.gateway.api;

import io.dockgate.gateway.request.DockerJson;
import io.dockgate.engine.Engine;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.events.Event;
import io.dockgate.engine.events.Events;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.http.OperationCatalog;
import io.dockgate.gateway.http.Responses;
import io.dockgate.gateway.request.Filters;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * docker events: the engine's events as a stream of JSON objects, one per line, from {@code since} (the
 * kept recent events) and live until {@code until} or until the client leaves; filters container,
 * image, volume, type, event, label.
 */
public final class EventsApi {
    private static final Set<String> FILTERS = Set.of("container", "image", "volume", "type", "event", "label", "scope");

    private final Engine engine;

    public EventsApi(Engine engine) {
        this.engine = engine;
    }

    public void register(OperationCatalog catalog) {
        catalog.add(OperationTable.SYSTEM_EVENTS, "GET", "/events", this::events);
    }

    Future<?> events(ApiRequest request) {
        Filters filters = Filters.parse(request.query("filters").orElse(null), FILTERS);
        long now = nanos(Instant.now());
        long since = request.query("since").filter(s -> !s.isEmpty()).map(s -> nanos(ContainersApi.time(s))).orElse(-1L);
        Long until = request.query("until").filter(s -> !s.isEmpty()).map(s -> nanos(ContainersApi.time(s))).orElse(null);
        if (since >= 0 && until != null && until < since) {
            throw EngineException.invalid("since time (" + since + ") cannot be after until time (" + until + ")");
        }
        Context context = Vertx.currentContext();
        HttpServerResponse response = request.response();
        response.setStatusCode(200).setChunked(true).putHeader("Content-Type", Responses.JSON);
        Promise<Void> done = Promise.promise();
        Events.Subscription[] subscription = new Events.Subscription[1];
        subscription[0] = engine.events().subscribe(since, e -> {
            if (until != null && e.timeNano() > until || !matches(e, filters) || !visible(e, request)) {
                return;
            }
            Buffer line = Buffer.buffer(DockerJson.MAPPER.valueToTree(json(e)).toString() + "\n");
            context.runOnContext(v -> {
                if (!done.future().isComplete()) {
                    response.write(line);
                }
            });
        });
        response.closeHandler(v -> done.tryComplete());
        if (until != null) {
            long wait = Math.max(0, (until - now) / 1_000_000);
            // the replay is queued on the context first; ending after it keeps every kept event
            context.owner().setTimer(Math.max(1, wait), t -> done.tryComplete());
        }
        return response.writeHead().compose(v -> done.future()).eventually(() -> {
            subscription[0].close();
            return response.ended() ? Future.succeededFuture() : response.end();
        });
    }

    /**
     * A caller scoped to its own objects sees the events of its containers (and of the volumes they mount),
     * of its volumes, and of the images of its namespace (pull, load, tag, untag, delete ... done in it).
     */
    private static boolean visible(Event e, ApiRequest request) {
        return request.access().sees(e.scope());
    }

    private static long nanos(Instant t) {
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    static Map<String, Object> json(Event e) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (e.type().equals("container") || e.type().equals("image")) {
            m.put("status", e.action());
            m.put("id", e.id());
            if (e.type().equals("container") && e.attributes().containsKey("image")) {
                m.put("from", e.attributes().get("image"));
            }
        }
        m.put("Type", e.type());
        m.put("Action", e.action());
        m.put("Actor", Map.of("ID", e.id(), "Attributes", e.attributes()));
        m.put("scope", "local");
        m.put("time", e.timeNano() / 1_000_000_000L);
        m.put("timeNano", e.timeNano());
        return m;
    }

    private static boolean matches(Event e, Filters f) {
        if (f.has("type") && !f.get("type").contains(e.type())) {
            return false;
        }
        if (f.has("event")) {
            String base = e.action().contains(":") ? e.action().substring(0, e.action().indexOf(':')) : e.action();
            if (!f.get("event").contains(e.action()) && !f.get("event").contains(base)) {
                return false;
            }
        }
        if (f.has("scope") && !f.get("scope").contains("local")) {
            return false;
        }
        if (f.has("container") && (!e.type().equals("container") || !matchesIdOrName(f.get("container"), e))) {
            return false;
        }
        if (f.has("volume") && (!e.type().equals("volume") || !f.get("volume").contains(e.id()))) {
            return false;
        }
        if (f.has("image")) {
            String image = e.type().equals("container") ? e.attributes().get("image") : e.type().equals("image") ? e.id() : null;
            String name = e.type().equals("image") ? e.attributes().get("name") : null;
            if (image == null || f.get("image").stream().noneMatch(i -> i.equals(image) || i.equals(name)
                    || image.startsWith("sha256:" + i) || (!i.contains(":") && (i + ":latest").equals(name)))) {
                return false;
            }
        }
        if (f.has("label") && !Filters.labelsMatch(f.get("label"), DockerJson.MAPPER.valueToTree(e.attributes()))) {
            return false;
        }
        return true;
    }

    private static boolean matchesIdOrName(List<String> wanted, Event e) {
        String name = e.attributes().getOrDefault("name", "");
        return wanted.stream().anyMatch(w -> e.id().startsWith(w) || w.equals(name) || w.equals("/" + name));
    }
}
