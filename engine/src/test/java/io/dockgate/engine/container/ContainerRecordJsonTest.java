package io.dockgate.engine.container;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.engine.net.Endpoint;
import io.dockgate.engine.net.EndpointRequest;
import io.dockgate.engine.net.NetworkState;
import io.dockgate.engine.net.PortBinding;
import io.dockgate.engine.net.PortMapping;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A container record with every part set (networks, ports, name resolution, a running network state)
 * is written and read back by the store as it was: a helper method that JSON would take for a property
 * cannot slip into the stored format and break the next start.
 */
class ContainerRecordJsonTest {
    @TempDir
    Path tmp;

    @Test
    void aRecordWithEveryPartRoundTripsThroughTheStore() throws Exception {
        ContainerSpec.Net net = new ContainerSpec.Net(List.of(new EndpointRequest("app", List.of("web"), "10.1.0.5", "02:42:0a:01:00:05")),
                List.of(new PortBinding(80, "tcp", "127.0.0.1", "8080")), true, List.of("80/tcp", "53/udp"), true,
                new ContainerSpec.Resolution(List.of("192.0.2.1"), List.of("corp.test"), List.of("ndots:2"), List.of("db:10.9.8.7")),
                List.of(new ContainerSpec.Link("0123456789ab", "db")));
        ContainerSpec spec = ContainerSpec.builder("busybox").cmd("sleep", "1").labels(Map.of("a", "b"))
                .host(ContainerSpec.Host.builder().networkMode("app").net(net).build()).build();
        NetworkState state = new NetworkState("/run/x/netns/id", List.of(new Endpoint("app", "n1", "e1", "10.1.0.5", 24, "10.1.0.1",
                "02:42:0a:01:00:05", List.of("web"), "eth0", "veth1234567")), List.of(new PortMapping("127.0.0.1", 8080, "10.1.0.5", 80,
                "tcp", "br-1")));
        ContainerRecord record = new ContainerRecord(ContainerStore.newId(), "/judged", "2026-01-01T00:00:00Z", "sha256:x", "busybox",
                spec, "sleep", List.of("1"), ContainerRecord.Status.created().running(1, 2, "t", state), 0, "/log");
        ContainerStore store = new ContainerStore(tmp);
        String reserved = store.reserveName("judged", record.id());
        assertThat(reserved).isEqualTo("/judged");
        store.save(record);
        ContainerRecord back = new ContainerStore(tmp).get(record.id());
        assertThat(back).isEqualTo(record);
    }
}
