package io.dockgate.gateway.authz;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.engine.container.ContainerSpec;
import io.dockgate.engine.container.Execs;
import io.dockgate.engine.volume.VolumeSpec;
import io.dockgate.gateway.api.OperationTable;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.http.Operation;
import io.dockgate.gateway.http.RequestObserver;
import io.dockgate.gateway.request.DockerJson;
import io.dockgate.gateway.testing.RawHttp;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * For every operation with a body, a corpus of bodies (key case, every way to give a CPU limit, binds
 * and mounts, nested policies) sent by a caller the policy constrains: the object the authorizer judged
 * is the very object the handler was given, translating the same bytes again gives an equal object, and
 * what the engine then holds is what that object says.
 */
class JudgedIsExecutedTest extends AuthzFixtureTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Seen(Operation operation, Object model) {
    }

    private final Queue<Seen> judged = new ConcurrentLinkedQueue<>();
    private final Queue<Seen> handled = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void watch() {
        f.daemon.daemon().observe(new RequestObserver() {
            @Override
            public void judged(Operation operation, Object model) {
                judged.add(new Seen(operation, model));
            }

            @Override
            public void handling(Operation operation, ApiRequest request) {
                handled.add(new Seen(operation, operation.model() == null ? null : request.model(Object.class)));
            }
        });
    }

    @AfterEach
    void unwatch() throws Exception {
        f.daemon.daemon().observe(RequestObserver.NONE);
        for (String id : f.root("ps", "-aq").stdout().split("\\s+")) {
            if (!id.isBlank()) {
                f.root("rm", "-f", id); // within alice's container quota for the next test
            }
        }
    }

    private String lastResponse;

    /** Sends one body as alice; returns the model judged, after checking it is the one handled. */
    private Object send(Operation op, String target, String body) throws Exception {
        return send("alice", op, target, body);
    }

    private Object send(String who, Operation op, String target, String body) throws Exception {
        judged.clear();
        handled.clear();
        String response = lastResponse = f.raw(who, BypassCorpusTest.post(target, body));
        assertThat(RawHttp.status(response)).as(body + " -> " + response).isBetween(200, 204);
        Seen j = judged.stream().filter(s -> s.operation() == op).reduce((a, b) -> b).orElseThrow();
        Seen h = handled.stream().filter(s -> s.operation() == op).reduce((a, b) -> b).orElseThrow();
        assertThat(j.model()).as(op + " " + body).isNotNull();
        assertThat(h.model()).as(op + ": the handler runs the object the policy judged").isSameAs(j.model());
        assertThat(op.model().apply(DockerJson.parse(body.getBytes(StandardCharsets.UTF_8))))
                .as(op + ": the same bytes translate to an equal object").isEqualTo(j.model());
        return j.model();
    }

    private JsonNode inspect(String path) throws Exception {
        String response = f.raw("alice", BypassCorpusTest.get(path));
        assertThat(RawHttp.status(response)).as(response).isEqualTo(200);
        return JSON.readTree(RawHttp.body(response));
    }

    /**
     * The operations this test sends requests for: every operation with a model (a JSON body, or a build's
     * query); a new one fails here until added.
     */
    @Test
    void everyOperationWithABodyIsCovered() {
        java.util.Set<Operation> covered = java.util.Set.of(OperationTable.CONTAINER_CREATE, OperationTable.CONTAINER_UPDATE,
                OperationTable.CONTAINER_EXEC, OperationTable.EXEC_START, OperationTable.VOLUME_CREATE, OperationTable.NETWORK_CREATE,
                OperationTable.NETWORK_CONNECT, OperationTable.NETWORK_DISCONNECT, OperationTable.CONTAINER_COMMIT,
                OperationTable.IMAGE_BUILD, OperationTable.REGISTRY_LOGIN);
        // swarm bodies: only a swarm manager executes them (the embedded engine answers 503): UpstreamSwarmTest sends
        // them through upstream mode, where the document judged is the document forwarded
        java.util.Set<Operation> swarm = java.util.Set.of(OperationTable.SWARM_MANAGE, OperationTable.NODE_UPDATE,
                OperationTable.SERVICE_CREATE, OperationTable.SERVICE_UPDATE, OperationTable.SECRET_CREATE, OperationTable.SECRET_UPDATE,
                OperationTable.CONFIG_CREATE, OperationTable.CONFIG_UPDATE);
        assertThat(OperationTable.all().values().stream().filter(o -> o.model() != null && !swarm.contains(o)))
                .containsExactlyInAnyOrderElementsOf(covered);
    }

    @Test
    void loginBodies() throws Exception {
        try (io.dockgate.gateway.testing.Registry registry = io.dockgate.gateway.testing.Registry.startWithPassword(
                tmp.resolve("judged-registry"), "u", "pw")) {
            String host = registry.host();
            String basic = java.util.Base64.getEncoder().encodeToString("u:pw".getBytes(StandardCharsets.UTF_8));
            for (String body : List.of("{\"username\":\"u\",\"password\":\"pw\",\"serveraddress\":\"" + host + "\"}",
                    "{\"Username\":\"u\",\"PASSWORD\":\"pw\",\"ServerAddress\":\"http://" + host + "/v2/\"}",
                    "{\"auth\":\"" + basic + "\",\"serveraddress\":\"" + host + "\",\"email\":\"\"}")) {
                io.dockgate.engine.image.RegistryCredentials used = (io.dockgate.engine.image.RegistryCredentials) send("ci-runner",
                        OperationTable.REGISTRY_LOGIN, "/v1.45/auth", body);
                assertThat(used.username()).isEqualTo("u");
                assertThat(RawHttp.body(lastResponse)).contains("Login Succeeded");
            }
        }
    }

    @Test
    void commitBodies() throws Exception {
        f.ok("alice", "create", "--name", "judged-commit", "busybox", "true");
        for (String body : List.of("{\"Cmd\":[\"echo\",\"committed\"],\"Labels\":{\"k\":\"v\"}}", "{\"env\":[\"A=1\"]}", "")) {
            io.dockgate.gateway.api.CommitApi.CommitConfig config = (io.dockgate.gateway.api.CommitApi.CommitConfig) send(
                    OperationTable.CONTAINER_COMMIT, "/v1.45/commit?container=judged-commit&repo=judged-commit", body);
            JsonNode image = inspect("/v1.45/images/judged-commit/json").get("Config");
            if (config.config() != null && config.config().has("Cmd")) {
                assertThat(image.get("Cmd")).isEqualTo(config.config().get("Cmd"));
                assertThat(image.get("Labels").get("k").asText()).isEqualTo("v");
            } else if (config.config() != null) {
                assertThat(image.get("Env").toString()).contains("A=1");
            } else {
                assertThat(image.get("Cmd").get(0).asText()).isEqualTo("true");
            }
        }
    }

    @Test
    void buildRequests() throws Exception {
        java.io.ByteArrayOutputStream tar = new java.io.ByteArrayOutputStream();
        try (org.apache.commons.compress.archivers.tar.TarArchiveOutputStream out =
                     new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(tar)) {
            byte[] dockerfile = "FROM busybox\nRUN echo built > /built\n".getBytes(StandardCharsets.UTF_8);
            org.apache.commons.compress.archivers.tar.TarArchiveEntry e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("Dockerfile");
            e.setSize(dockerfile.length);
            out.putArchiveEntry(e);
            out.write(dockerfile);
            out.closeArchiveEntry();
        }
        judged.clear();
        handled.clear();
        String head = "POST /v1.45/build?t=judged-build:1&labels=%7B%22team%22%3A%22a%22%7D&networkmode=none&memory=67108864 HTTP/1.1\r\n"
                + "Host: docker\r\nContent-Type: application/x-tar\r\nContent-Length: " + tar.size() + "\r\n\r\n";
        byte[] request = new byte[head.length() + tar.size()];
        System.arraycopy(head.getBytes(StandardCharsets.ISO_8859_1), 0, request, 0, head.length());
        System.arraycopy(tar.toByteArray(), 0, request, head.length(), tar.size());
        String response = f.raw("alice", request);
        assertThat(RawHttp.status(response)).as(response).isEqualTo(200);
        assertThat(RawHttp.body(response)).contains("Successfully tagged judged-build:1");
        Seen j = judged.stream().filter(s -> s.operation() == OperationTable.IMAGE_BUILD).reduce((a, b) -> b).orElseThrow();
        Seen h = handled.stream().filter(s -> s.operation() == OperationTable.IMAGE_BUILD).reduce((a, b) -> b).orElseThrow();
        io.dockgate.engine.build.BuildRequest r = (io.dockgate.engine.build.BuildRequest) j.model();
        assertThat(h.model()).as("the handler runs the request the policy judged").isSameAs(r);
        assertThat(r.networkMode()).isEqualTo("none");
        assertThat(r.limits().memory()).isEqualTo(64L << 20);
        JsonNode image = inspect("/v1.45/images/judged-build:1/json");
        assertThat(image.get("Config").get("Labels").get("team").asText()).isEqualTo(r.labels().get("team"));
        assertThat(r.tags()).containsExactly("judged-build:1");
    }

    @Test
    void createBodies() throws Exception {
        List<String> bodies = List.of(
                "{\"Image\":\"busybox\",\"Cmd\":[\"true\"],\"HostConfig\":{\"Memory\":67108864,\"NanoCpus\":500000000}}",
                "{\"image\":\"busybox\",\"cmd\":[\"true\"],\"hostconfig\":{\"memory\":33554432,\"cpuquota\":50000}}",
                "{\"Image\":\"busybox\",\"User\":\"1000\",\"Env\":[\"A=1\"],\"Labels\":{\"x\":\"y\"},"
                        + "\"HostConfig\":{\"Binds\":[\"" + f.shared + ":/s:ro\"],\"PidsLimit\":20,\"CpuPeriod\":50000,\"CpuQuota\":25000}}",
                "{\"Image\":\"busybox\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"" + f.shared
                        + "\",\"Target\":\"/m\",\"ReadOnly\":true}],\"RestartPolicy\":{\"Name\":\"on-failure\",\"MaximumRetryCount\":3}}}");
        int n = 0;
        for (String body : bodies) {
            String name = "judged-c" + n++;
            ContainerSpec spec = (ContainerSpec) send(OperationTable.CONTAINER_CREATE, "/v1.45/containers/create?name=" + name, body);
            JsonNode hc = inspect("/v1.45/containers/" + name + "/json").get("HostConfig");
            ContainerSpec.Host host = spec.host();
            assertThat(hc.get("Memory").asLong()).as(body).isEqualTo(host.memory());
            assertThat(hc.get("NanoCpus").asLong()).as(body).isEqualTo(host.nanoCpus());
            assertThat(hc.get("CpuQuota").asLong()).as(body).isEqualTo(host.cpuQuota());
            assertThat(hc.get("CpuPeriod").asLong()).as(body).isEqualTo(host.cpuPeriod());
            assertThat(hc.get("RestartPolicy").get("Name").asText()).as(body).isEqualTo(host.restartPolicy().name());
            assertThat(inspect("/v1.45/containers/" + name + "/json").get("Mounts").size()).as(body).isEqualTo(host.mounts().size());
        }
    }

    @Test
    void createBodiesWithNetworksAndLinks() throws Exception {
        f.ok("alice", "network", "create", "judgednet");
        f.ok("alice", "network", "create", "judgednet2");
        f.ok("alice", "create", "--name", "judged-target", "busybox", "true");
        String body = "{\"Image\":\"busybox\",\"HostConfig\":{\"NetworkMode\":\"judgednet\"},\"NetworkingConfig\":{\"EndpointsConfig\":"
                + "{\"judgednet\":{\"Aliases\":[\"al\"],\"Links\":[\"judged-target:t\"]},\"judgednet2\":{}}}}";
        ContainerSpec spec = (ContainerSpec) send(OperationTable.CONTAINER_CREATE, "/v1.45/containers/create?name=judged-n", body);
        JsonNode networks = inspect("/v1.45/containers/judged-n/json").get("NetworkSettings").get("Networks");
        assertThat(networks.size()).isEqualTo(spec.netOrNone().endpointsOrEmpty().size()).isEqualTo(2);
        assertThat(networks.get("judgednet").get("Links").get(0).asText())
                .isEqualTo("judged-target:" + spec.netOrNone().linksOrEmpty().get(0).alias());
        assertThat(networks.get("judgednet").get("Aliases").toString()).contains(spec.netOrNone().endpointsOrEmpty().get(0).aliases().get(0));
    }

    @Test
    void updateBodies() throws Exception {
        f.ok("alice", "create", "--name", "judged-u", "-m", "64m", "busybox", "true");
        for (String body : List.of("{\"Memory\":134217728}", "{\"cpuquota\":20000,\"cpuperiod\":100000}",
                "{\"NanoCpus\":250000000}", "{\"CpuQuota\":30000}", "{\"PidsLimit\":50,\"restartpolicy\":{\"name\":\"always\"}}")) {
            JsonNode before = inspect("/v1.45/containers/judged-u/json").get("HostConfig");
            ContainerSpec.Host changes = (ContainerSpec.Host) send(OperationTable.CONTAINER_UPDATE, "/v1.45/containers/judged-u/update", body);
            JsonNode after = inspect("/v1.45/containers/judged-u/json").get("HostConfig");
            ContainerSpec.Host expected = ContainerSpec.Host.builder().memory(before.get("Memory").asLong())
                    .cpuQuota(before.get("CpuQuota").asLong()).cpuPeriod(before.get("CpuPeriod").asLong())
                    .nanoCpus(before.get("NanoCpus").asLong()).pidsLimit(before.get("PidsLimit").asLong()).build().updatedBy(changes);
            assertThat(after.get("Memory").asLong()).as(body).isEqualTo(expected.memory());
            assertThat(after.get("CpuQuota").asLong()).as(body).isEqualTo(expected.cpuQuota());
            assertThat(after.get("CpuPeriod").asLong()).as(body).isEqualTo(expected.cpuPeriod());
            assertThat(after.get("NanoCpus").asLong()).as(body).isEqualTo(expected.nanoCpus());
            assertThat(after.get("PidsLimit").asLong()).as(body).isEqualTo(expected.pidsLimit());
        }
    }

    @Test
    void execBodies() throws Exception {
        f.ok("alice", "run", "-d", "--name", "judged-e", "busybox", "sleep", "60");
        for (String body : List.of("{\"Cmd\":[\"id\"],\"User\":\"1000\"}",
                "{\"cmd\":[\"true\"],\"env\":[\"A=1\"],\"workingdir\":\"/tmp\",\"tty\":true,\"consolesize\":[10,40]}")) {
            Execs.ExecSpec spec = (Execs.ExecSpec) send(OperationTable.CONTAINER_EXEC, "/v1.45/containers/judged-e/exec", body);
            String created = JSON.readTree(RawHttp.body(lastResponse)).get("Id").asText();
            JsonNode exec = inspect("/v1.45/exec/" + created + "/json");
            assertThat(exec.get("ProcessConfig").get("user").asText()).isEqualTo(spec.user() == null ? "" : spec.user());
            assertThat(exec.get("ProcessConfig").get("tty").asBoolean()).isEqualTo(spec.tty());
            assertThat(exec.get("ProcessConfig").get("privileged").asBoolean()).isEqualTo(spec.privileged());
            send(OperationTable.EXEC_START, "/v1.45/exec/" + created + "/start", "{\"detach\":true,\"Tty\":false}");
        }
    }

    @Test
    void volumeBodies() throws Exception {
        for (String body : List.of("{\"Name\":\"judged-v1\",\"Labels\":{\"a\":\"b\"}}",
                "{\"name\":\"judged-v2\",\"labels\":{\"a\":\"c\"},\"driver\":\"local\"}")) {
            VolumeSpec spec = (VolumeSpec) send(OperationTable.VOLUME_CREATE, "/v1.45/volumes/create", body);
            JsonNode v = inspect("/v1.45/volumes/" + spec.name());
            assertThat(JSON.convertValue(v.get("Options"), Map.class)).as(body).isEqualTo(spec.optionsOrEmpty());
            assertThat(v.get("Labels").get("a") == null ? null : v.get("Labels").get("a").asText())
                    .isEqualTo(spec.labelsOrEmpty().get("a"));
        }
    }

    @Test
    void networkBodies() throws Exception {
        List<String> created = new java.util.ArrayList<>();
        try {
            for (String body : List.of("{\"Name\":\"judged-n1\",\"Labels\":{\"a\":\"b\"}}",
                    "{\"name\":\"judged-n2\",\"internal\":true,\"ipam\":{\"config\":[{\"subnet\":\"10.213.77.0/24\","
                            + "\"gateway\":\"10.213.77.254\"}]},\"options\":{\"com.docker.network.driver.mtu\":\"1400\"}}")) {
                io.dockgate.engine.net.NetworkSpec spec = (io.dockgate.engine.net.NetworkSpec) send(OperationTable.NETWORK_CREATE,
                        "/v1.45/networks/create", body);
                created.add(spec.name());
                JsonNode n = inspect("/v1.45/networks/" + spec.name());
                if (spec.internal()) {
                    f.ok("alice", "create", "--name", "judged-nc2", "--network", "judged-n1", "busybox", "true");
                    io.dockgate.engine.net.NetworkConnection c = (io.dockgate.engine.net.NetworkConnection) send(
                            OperationTable.NETWORK_CONNECT, "/v1.45/networks/judged-n2/connect",
                            "{\"container\":\"judged-nc2\",\"endpointconfig\":{\"aliases\":[\"x1\"],\"IPAMConfig\":{\"IPv4Address\":"
                                    + "\"10.213.77.9\"}}}");
                    JsonNode nets = inspect("/v1.45/containers/judged-nc2/json").get("NetworkSettings").get("Networks");
                    assertThat(nets.has("judged-n2")).isTrue();
                    assertThat(nets.get("judged-n2").get("IPAMConfig").get("IPv4Address").asText()).isEqualTo(c.endpoint().ipv4());
                    send(OperationTable.NETWORK_DISCONNECT, "/v1.45/networks/judged-n2/disconnect", "{\"Container\":\"judged-nc2\"}");
                    assertThat(inspect("/v1.45/containers/judged-nc2/json").get("NetworkSettings").get("Networks").has("judged-n2")).isFalse();
                }
                assertThat(n.get("Internal").asBoolean()).isEqualTo(spec.internal());
                assertThat(JSON.convertValue(n.get("Options"), Map.class)).isEqualTo(spec.optionsOrEmpty());
                if (spec.subnet() != null) {
                    assertThat(n.get("IPAM").get("Config").get(0).get("Subnet").asText()).isEqualTo(spec.subnet());
                    assertThat(n.get("IPAM").get("Config").get(0).get("Gateway").asText()).isEqualTo(spec.gateway());
                }
            }
        } finally {
            for (String name : created) {
                f.raw("alice", "DELETE /v1.45/networks/" + name + " HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n");
            }
        }
    }
}
