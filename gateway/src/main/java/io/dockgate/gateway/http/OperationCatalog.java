package io.dockgate.gateway.http;

import io.dockgate.gateway.request.CanonicalPath;
import io.dockgate.gateway.request.Route;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every route the daemon serves, each with its operation name and handler. Routing, access logs (and
 * later authorization and audit) all read the operation from here; a path that no route names does not
 * exist. Routes are tried in registration order.
 */
public final class OperationCatalog {
    /** A route found for a request, with its path parameters. */
    public record Match(Route route, ApiHandler handler, Map<String, String> params) {
    }

    private record Entry(Route route, ApiHandler handler) {
    }

    private final List<Entry> entries = new ArrayList<>();

    public OperationCatalog add(Route route, ApiHandler handler) {
        for (Entry e : entries) {
            if (e.route().operation().equals(route.operation()) && e.route().pattern().equals(route.pattern())
                    && e.route().methods().equals(route.methods())) {
                throw new IllegalArgumentException("route registered twice: " + route);
            }
        }
        entries.add(new Entry(route, handler));
        return this;
    }

    public Optional<Match> find(String method, CanonicalPath path) {
        Map<String, String> params = new HashMap<>(4);
        for (Entry e : entries) {
            if (!e.route().methods().contains(method)) {
                continue;
            }
            if (e.route().matches(path.segments(), params)) {
                return Optional.of(new Match(e.route(), e.handler(), params));
            }
            params.clear(); // what a partial match put there
        }
        return Optional.empty();
    }

    public List<Route> routes() {
        return entries.stream().map(Entry::route).toList();
    }
}
