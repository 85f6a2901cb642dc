package io.dockgate.gateway.http;

import io.dockgate.gateway.request.CanonicalPath;
import io.dockgate.gateway.request.Route;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Every route the daemon serves, each with its operation's descriptor and its handler. A path that no
 * route names does not exist. Routes are tried in registration order. Routes that share an operation
 * share its one descriptor.
 */
public final class OperationCatalog {
    /** A route found for a request, with its path parameters. */
    public record Match(Route route, Operation operation, ApiHandler handler, Map<String, String> params) {
        /** With the target the query names (operations whose target is in the query), as a parameter. */
        public Match withQueryTarget(java.util.function.Function<String, String> query) {
            if (!operation.target().inQuery()) {
                return this;
            }
            Map<String, String> all = new HashMap<>(params);
            String value = query.apply(operation.target().param());
            all.put(operation.target().param(), value == null ? "" : value);
            return new Match(route, operation, handler, Map.copyOf(all));
        }

    }

    /** One served route. */
    public record Entry(Route route, Operation operation, ApiHandler handler) {
    }

    private final List<Entry> entries = new ArrayList<>();
    private final Map<String, Operation> operations = new HashMap<>();

    public OperationCatalog add(Operation operation, String method, String pattern, ApiHandler handler) {
        return add(operation, Set.of(method), pattern, handler);
    }

    public OperationCatalog add(Operation operation, Set<String> methods, String pattern, ApiHandler handler) {
        Route route = Route.of(methods, pattern);
        for (Entry e : entries) {
            if (e.route().pattern().equals(pattern) && e.route().methods().stream().anyMatch(methods::contains)) {
                throw new IllegalArgumentException("route registered twice: " + methods + " " + pattern);
            }
        }
        Operation known = operations.putIfAbsent(operation.name(), operation);
        if (known != null && known != operation) {
            throw new IllegalArgumentException("operation " + operation.name() + " described twice");
        }
        if (operation.target().param() != null && !operation.target().inQuery()
                && !route.parts().contains("{" + operation.target().param() + "}")) {
            throw new IllegalArgumentException(pattern + " does not name the " + operation.target() + " target of " + operation);
        }
        entries.add(new Entry(route, operation, handler));
        return this;
    }

    public Optional<Match> find(String method, CanonicalPath path) {
        Map<String, String> params = new HashMap<>(4);
        for (Entry e : entries) {
            if (!e.route().methods().contains(method)) {
                continue;
            }
            if (e.route().matches(path.segments(), params)) {
                return Optional.of(new Match(e.route(), e.operation(), e.handler(), params));
            }
            params.clear(); // what a partial match put there
        }
        return Optional.empty();
    }

    public List<Entry> entries() {
        return List.copyOf(entries);
    }
}
