package io.dockgate.gateway.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.config.policy.Operations;
import io.dockgate.gateway.Daemon;
import io.dockgate.gateway.request.Route;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The routes and the policy's operation names are the same list: a route without a name cannot be granted. */
class OperationCatalogTest {
    @Test
    void everyRouteHasAKnownOperationAndEveryOperationARoute() {
        List<Route> routes = Daemon.catalog(null, null, List::of).routes();
        Set<String> routed = new TreeSet<>();
        routes.forEach(r -> routed.add(r.operation()));
        Set<String> named = new TreeSet<>(Operations.names());
        named.remove("container.inspect.env"); // a right checked inside container.inspect, not a route
        assertThat(routed).isEqualTo(named);
        for (Route r : routes) {
            assertThat(r.methods()).as(r.pattern()).isNotEmpty();
            assertThat(r.pattern()).as(r.operation()).startsWith("/");
        }
    }
}
