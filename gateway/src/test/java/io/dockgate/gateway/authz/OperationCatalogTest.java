package io.dockgate.gateway.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.config.policy.Operations;
import io.dockgate.gateway.Daemon;
import io.dockgate.gateway.api.OperationTable;
import io.dockgate.gateway.http.Operation;
import io.dockgate.gateway.http.OperationCatalog;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The routes, the operation descriptors and the policy's operation names are one list: a route without a
 * name cannot be granted, and every route of an operation shares its one descriptor.
 */
class OperationCatalogTest {
    @Test
    void everyRouteHasAKnownOperationAndEveryOperationARoute() {
        List<OperationCatalog.Entry> entries = Daemon.catalog(null, null, List::of).entries();
        Set<String> routed = new TreeSet<>();
        entries.forEach(e -> routed.add(e.operation().name()));
        Set<String> named = new TreeSet<>(Operations.names());
        named.remove("container.inspect.env"); // a right checked inside container.inspect, not a route
        assertThat(routed).isEqualTo(named);
        assertThat(new TreeSet<>(OperationTable.all().keySet())).isEqualTo(named);
        for (OperationCatalog.Entry e : entries) {
            assertThat(e.route().methods()).as(e.route().pattern()).isNotEmpty();
            assertThat(e.route().pattern()).as(e.operation().name()).startsWith("/");
            assertThat(e.operation()).as(e.route().pattern()).isSameAs(OperationTable.byName(e.operation().name()));
        }
    }

    @Test
    void descriptorsAreConsistent() {
        for (Operation op : OperationTable.all().values()) {
            assertThat(op.kind()).as(op.name()).isEqualTo(Operations.kind(op.name()));
            if (op.body() == Operation.Body.JSON) {
                assertThat(op.model()).as(op.name() + ": a JSON body has a model").isNotNull();
            } else if (op.body() == Operation.Body.NONE) {
                assertThat(op.model()).as(op.name() + ": no body, no model").isNull();
            }
            if (op.hijacks()) {
                assertThat(op.streaming()).as(op.name()).isEqualTo(Operation.Streaming.ALWAYS);
            }
            if (op.stampsOwner() || op.hostPaths()) {
                assertThat(op.body()).as(op.name()).isEqualTo(Operation.Body.JSON);
            }
        }
        assertThat(OperationTable.CONTAINER_ATTACH.hijacks()).isTrue();
        assertThat(OperationTable.EXEC_START.target()).isEqualTo(Target.Kind.EXEC);
        assertThat(OperationTable.VOLUME_DELETE.target()).isEqualTo(Target.Kind.VOLUME);
    }
}
