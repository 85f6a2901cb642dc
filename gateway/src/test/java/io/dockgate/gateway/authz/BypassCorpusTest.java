package io.dockgate.gateway.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.gateway.testing.RawHttp;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The known ways gateways and authorization plugins were bypassed (../shared/reference/gateway-security.md),
 * each as a raw request over mutual TLS from an identity the policy restricts: encodings, dot segments,
 * version prefixes, unknown routes and methods, JSON key case and duplicates, Mounts versus Binds,
 * volume {@code device=}, {@code User: "00"}, namespaces, capabilities, devices, profiles, owner-label
 * spoofing, others' containers and execs, hijack paths, exfiltration routes, framing and body tricks.
 * Every one must be refused and the refusal must be in the audit log.
 */
class BypassCorpusTest extends AuthzFixtureTest {
    static String bobsContainer;
    static String bobsExec;
    static String privilegedExecInAlices;
    static String privilegedExecInBobs;
    /** A hex digit that begins none of alice's containers (bob's first digit when possible): IDs are random. */
    static String prefixNoneOfAlicesHas;
    /** carol's image (tenants: scope own), which dave's namespace does not reach. */
    static String carolsImage;

    @BeforeAll
    static void createOthersObjects() throws Exception {
        f.ok("alice", "run", "-d", "--name", "a1", "busybox", "sleep", "300");
        bobsContainer = f.ok("bob", "run", "-d", "--name", "b1", "busybox", "sleep", "300");
        f.ok("bob", "volume", "create", "bobvol");
        f.ok("bob", "network", "create", "bobnet");
        f.ok("alice", "network", "create", "alicenet");
        f.ok("ci-runner", "create", "--name", "ci-box", "-u", "1000", "-m", "64m", "--pids-limit", "10", "busybox", "true");
        String exec = RawHttp.unix(f.socket(), f.versioned(post("/v1.45/containers/b1/exec", "{\"Cmd\":[\"true\"]}")));
        assertThat(RawHttp.status(exec)).as(exec).isEqualTo(201);
        bobsExec = RawHttp.body(exec).replaceAll(".*\"Id\":\"([0-9a-f]+)\".*", "$1").trim();
        String privileged = RawHttp.unix(f.socket(), f.versioned(post("/v1.45/containers/a1/exec", "{\"Cmd\":[\"id\"],\"Privileged\":true}")));
        assertThat(RawHttp.status(privileged)).as(privileged).isEqualTo(201);
        privilegedExecInAlices = RawHttp.body(privileged).replaceAll(".*\"Id\":\"([0-9a-f]+)\".*", "$1").trim();
        String bobs = RawHttp.unix(f.socket(), f.versioned(post("/v1.45/containers/b1/exec", "{\"Cmd\":[\"id\"],\"Privileged\":true}")));
        assertThat(RawHttp.status(bobs)).as(bobs).isEqualTo(201);
        privilegedExecInBobs = RawHttp.body(bobs).replaceAll(".*\"Id\":\"([0-9a-f]+)\".*", "$1").trim();
        java.nio.file.Path dir = java.nio.file.Files.createDirectories(tmp.resolve("carols-image"));
        f.ok("carol", "import", "-c", "LABEL who=carol", io.dockgate.engine.testing.TestImages.busyboxTar(dir).toString(), "app:1");
        carolsImage = f.ok("carol", "image", "inspect", "-f", "{{.Id}}", "app:1").substring(7);
        String alices = f.ok("alice", "ps", "-aq", "--no-trunc");
        prefixNoneOfAlicesHas = (bobsContainer.charAt(0) + "0123456789abcdef").chars()
                .mapToObj(ch -> String.valueOf((char) ch))
                .filter(d -> alices.lines().noneMatch(id -> id.startsWith(d)))
                .findFirst().orElseThrow();
    }

    /** One attack: who sends what, and the statuses that count as refused. */
    record Attack(String name, String who, byte[] request, Set<Integer> refused) {
    }

    static String get(String target) {
        return "GET " + target + " HTTP/1.1\r\nHost: docker\r\n\r\n";
    }

    static String post(String target, String json) {
        return "POST " + target + " HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: "
                + json.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + json;
    }

    static String create(String json) {
        return post("/v1.45/containers/create", json);
    }

    static String withHost(String hostConfig) {
        return "{\"Image\":\"busybox\",\"Cmd\":[\"true\"],\"HostConfig\":" + hostConfig + "}";
    }

    /** An attack whose request is sent as UTF-8 (bodies with characters beyond Latin-1). */
    static Attack utf8(String name, String who, String request, Integer... refused) {
        return new Attack(name, who, request.getBytes(StandardCharsets.UTF_8), Set.of(refused));
    }

    static Attack a(String name, String who, String request, Integer... refused) {
        return new Attack(name, who, request.getBytes(StandardCharsets.ISO_8859_1), Set.of(refused));
    }

    static List<Attack> corpus() {
        List<Attack> c = new ArrayList<>();
        // 1. decoding: once, segment by segment
        c.add(a("encoded dot-dot", "alice", get("/containers/%2e%2e/json"), 400));
        c.add(a("encoded dot-dot upper case", "alice", get("/v1.45/containers/%2E%2E/json"), 400));
        c.add(a("raw dot-dot climbing to images", "alice", get("/containers/../images/json"), 400));
        c.add(a("dot segment", "alice", get("/./containers/json"), 400));
        c.add(a("double slash", "alice", get("//containers/json"), 400));
        c.add(a("empty segment", "alice", get("/containers//json"), 400));
        c.add(a("encoded NUL", "alice", get("/containers/a1%00/json"), 400));
        c.add(a("double encoding", "alice", get("/containers/%252e%252e/json"), 400));
        c.add(a("double-encoded slash in image", "alice", "DELETE /images/busybox%252Flatest HTTP/1.1\r\nHost: d\r\n\r\n", 400));
        c.add(a("encoded route name still names image.load", "alice", post("/%69mages/load", ""), 403));
        c.add(a("encoded letters in a denied route", "alice", "DELETE /images/%62usybox HTTP/1.1\r\nHost: d\r\n\r\n", 403));
        c.add(a("encoded slash outside a parameter", "alice", get("/containers%2Fjson"), 404));
        c.add(a("encoded slash in a container id", "alice", get("/containers/b1%2F..%2F..%2Finfo/json"), 404));
        c.add(a("malformed escape", "alice", get("/containers/%zz/json"), 400));
        c.add(a("non-ASCII path", "alice", "GET /containers/\u00e9/json HTTP/1.1\r\nHost: d\r\n\r\n", 400));
        c.add(a("dot-dot after a version", "alice", get("/v1.45/../v1.45/info"), 400));
        // 2. version prefixes: every route with and without, and nothing else
        c.add(a("unsupported version", "alice", post("/v1.99/images/load", ""), 400));
        c.add(a("too old a version", "alice", post("/v0.1/images/load", ""), 400));
        c.add(a("upper-case V is no version", "alice", post("/V1.45/images/load", ""), 404));
        c.add(a("two version prefixes", "alice", post("/v1.45/v1.45/images/load", ""), 404));
        c.add(a("libpod prefix", "alice", post("/libpod/images/load", ""), 404));
        c.add(a("unversioned denied route", "alice", post("/images/load", ""), 403));
        c.add(a("oldest version, denied route", "alice", post("/v1.41/images/load", ""), 403));
        // 3. unknown routes and methods are denied, never passed through
        c.add(a("PUT on create", "alice", "PUT /containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 2\r\n\r\n{}", 404));
        c.add(a("session", "alice", post("/session", ""), 404));
        c.add(a("build without the right (a route now)", "val", post("/build", ""), 403));
        c.add(a("swarm init (a route now, not granted)", "alice", post("/swarm/init", "{}"), 403));
        c.add(a("swarm leave, not granted", "alice", post("/v1.41/swarm/leave?force=1", ""), 403));
        c.add(a("plugin install", "alice", post("/plugins/pull?remote=evil", "[]"), 404));
        c.add(a("container commit without the right (a route now)", "val", post("/commit?container=a1", "{}"), 403));
        c.add(a("absolute-form target", "alice", "GET http://docker/containers/json HTTP/1.1\r\nHost: d\r\n\r\n", 400));
        c.add(a("image pull not granted", "alice", post("/images/create?fromImage=busybox", ""), 403));
        // 4. bodies: what the engine would run, keys in any case, duplicates refused
        c.add(a("privileged", "alice", create(withHost("{\"Privileged\":true}")), 403));
        c.add(a("privileged, lower-case keys", "alice", create("{\"image\":\"busybox\",\"hostconfig\":{\"privileged\":true}}"), 403));
        c.add(a("privileged, duplicate key in other case", "alice", create(withHost("{\"Privileged\":false,\"privileged\":true}")), 400));
        c.add(a("duplicate HostConfig", "alice", create("{\"Image\":\"busybox\",\"HostConfig\":{},\"HOSTCONFIG\":{\"Privileged\":true}}"), 400));
        c.add(a("Binds /etc", "alice", create(withHost("{\"Binds\":[\"/etc:/x\"]}")), 403));
        c.add(a("Binds / read-only", "alice", create(withHost("{\"Binds\":[\"/:/host:ro\"]}")), 403));
        c.add(a("binds key lower case", "alice", create(withHost("{\"binds\":[\"/etc:/x:ro\"]}")), 403));
        // Go's JSON decoding folds the long s and the Kelvin sign into s and k: "Bind\u017f" is Binds to dockerd, and the
        // last of two keys that fold alike wins there; the dotless i folds to i in Java, not in Go
        c.add(utf8("allowed Binds then Bind with a long s", "alice", create(withHost("{\"Binds\":[\"" + f.shared + ":/s:ro\"],"
                + "\"Bind\u017f\":[\"/:/host\"]}")), 400));
        c.add(utf8("CapAdd with a Kelvin sign", "alice", create(withHost("{\"CapAdd\":[],\"\u212aapAdd\":[\"SYS_ADMIN\"]}")), 400));
        c.add(utf8("Privileged with a dotless i", "alice", create(withHost("{\"Pr\u0131vileged\":true}")), 400));
        c.add(a("Mounts bind /etc", "alice", create(withHost("{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/etc\",\"Target\":\"/x\",\"ReadOnly\":true}]}")), 403));
        c.add(a("Mounts bind shared read-write", "alice", create(withHost("{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"" + f.shared + "\",\"Target\":\"/x\"}]}")), 403));
        c.add(a("Binds climbing out of the allowed path", "alice", create(withHost("{\"Binds\":[\"" + f.shared + "/../../../etc:/x:ro\"]}")), 403));
        c.add(a("Binds through a symlink in the allowed path", "alice", create(withHost("{\"Binds\":[\"" + f.shared + "/etc-link:/x:ro\"]}")), 403));
        c.add(a("mounts key lower case", "alice", create(withHost("{\"mounts\":[{\"type\":\"bind\",\"source\":\"/etc\",\"target\":\"/x\",\"readonly\":true}]}")), 403));
        c.add(a("CapAdd SYS_ADMIN", "alice", create(withHost("{\"CapAdd\":[\"SYS_ADMIN\"]}")), 403));
        c.add(a("CapAdd ALL", "alice", create(withHost("{\"CapAdd\":[\"ALL\"]}")), 403));
        c.add(a("CapAdd lower case with prefix", "alice", create(withHost("{\"CapAdd\":[\"cap_sys_admin\"]}")), 403));
        c.add(a("host network", "alice", create(withHost("{\"NetworkMode\":\"host\"}")), 403));
        c.add(a("host pid", "alice", create(withHost("{\"PidMode\":\"host\"}")), 403));
        c.add(a("host ipc", "alice", create(withHost("{\"IpcMode\":\"host\"}")), 403));
        c.add(a("host uts", "alice", create(withHost("{\"UTSMode\":\"host\"}")), 403));
        c.add(a("host userns", "alice", create(withHost("{\"UsernsMode\":\"host\"}")), 403));
        c.add(a("join another container's pid namespace", "alice", create(withHost("{\"PidMode\":\"container:b1\"}")), 403));
        c.add(a("join another container's network", "alice", create(withHost("{\"NetworkMode\":\"container:b1\"}")), 403));
        // networks: another owner's answers as a missing one; no bridge name of the caller's choosing
        c.add(a("another owner's network inspected", "alice", get("/v1.45/networks/bobnet"), 404));
        c.add(a("another owner's network removed", "alice", "DELETE /v1.45/networks/bobnet HTTP/1.1\r\nHost: docker\r\n\r\n", 404));
        c.add(a("another owner's network joined at create", "alice", create(withHost("{\"NetworkMode\":\"bobnet\"}")), 403));
        c.add(a("another owner's network joined, lower-case key", "alice", create(withHost("{\"networkmode\":\"bobnet\"}")), 403));
        c.add(a("another owner's network through the endpoint settings", "alice", create("{\"Image\":\"busybox\",\"HostConfig\":"
                + "{\"NetworkMode\":\"bobnet\"},\"NetworkingConfig\":{\"EndpointsConfig\":{\"bobnet\":{}}}}"), 403));
        c.add(a("a missing network answers as another's", "alice", create(withHost("{\"NetworkMode\":\"nosuchnet\"}")), 403));
        c.add(a("another owner's network as a second network at create", "alice", create("{\"Image\":\"busybox\",\"HostConfig\":"
                + "{\"NetworkMode\":\"alicenet\"},\"NetworkingConfig\":{\"EndpointsConfig\":{\"alicenet\":{},\"bobnet\":{}}}}"), 403));
        c.add(a("a link to another owner's container", "alice", create(withHost("{\"Links\":[\"b1:db\"]}")), 403));
        c.add(a("a link to another owner's container, lower-case key", "alice", create(withHost("{\"links\":[\"/b1:/x/db\"]}")), 403));
        c.add(a("a link to another owner's container in the endpoint settings", "alice", create("{\"Image\":\"busybox\",\"HostConfig\":"
                + "{\"NetworkMode\":\"alicenet\"},\"NetworkingConfig\":{\"EndpointsConfig\":{\"alicenet\":{\"Links\":[\"b1\"]}}}}"), 403));
        c.add(a("a create with the daemon's build-step label", "alice", create("{\"Image\":\"busybox\",\"Labels\":"
                + "{\"io.dockgate.build-step\":\"true\"}}"), 403));
        // builds and commits
        c.add(a("a build on the host's network", "alice", post("/v1.45/build?networkmode=host", ""), 403));
        c.add(a("a build on another owner's network", "alice", post("/v1.45/build?networkmode=bobnet", ""), 403));
        c.add(a("a build with BuildKit's protocol", "alice", post("/v1.45/build?version=2", ""), 400));
        c.add(a("a build whose steps have no memory limit where one is required", "ci-runner", post("/v1.45/build", ""), 403));
        c.add(a("a build whose steps exceed the memory maximum", "ci-runner", post("/v1.45/build?memory=1073741824", ""), 403));
        c.add(a("a commit of another owner's container", "alice", post("/v1.45/commit?container=b1&repo=stolen", ""), 404));
        c.add(a("a commit of another owner's container by ID prefix", "alice", post("/v1.45/commit?container="
                + bobsContainer.substring(0, 12) + "&repo=stolen", ""), 404));
        c.add(a("a commit naming no container", "alice", post("/v1.45/commit?repo=stolen", ""), 404));
        c.add(a("join another container's network by ID prefix", "alice", create(withHost("{\"NetworkMode\":\"container:"
                + bobsContainer.substring(0, 12) + "\"}")), 403));
        c.add(a("a bridge named as a host interface", "alice", post("/v1.45/networks/create",
                "{\"Name\":\"n9\",\"Options\":{\"com.docker.network.bridge.name\":\"lo\"}}"), 403));
        // published ports: only on 127.0.0.1, only 20000-29999, nothing below 1024
        c.add(a("a port on every address", "alice", create(withHost("{\"PortBindings\":{\"80/tcp\":[{\"HostPort\":\"20080\"}]}}")), 403));
        c.add(a("a port on 0.0.0.0 named", "alice", create(withHost(
                "{\"PortBindings\":{\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"20080\"}]}}")), 403));
        c.add(a("a privileged host port", "alice", create(withHost(
                "{\"PortBindings\":{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"80\"}]}}")), 403));
        c.add(a("a host port outside the range", "alice", create(withHost(
                "{\"PortBindings\":{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"30000\"}]}}")), 403));
        c.add(a("a range reaching outside the allowed one", "alice", create(withHost(
                "{\"PortBindings\":{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"29990-30010\"}]}}")), 403));
        c.add(a("port bindings under a lower-case key", "alice", create(withHost(
                "{\"portbindings\":{\"80/tcp\":[{\"hostip\":\"127.0.0.2\",\"hostport\":\"20080\"}]}}")), 403));
        c.add(a("every exposed port on every address", "alice", create("{\"Image\":\"busybox\",\"ExposedPorts\":{\"80/tcp\":{}},"
                + "\"HostConfig\":{\"PublishAllPorts\":true}}"), 403));
        c.add(a("connect to another owner's network", "alice", post("/v1.45/networks/bobnet/connect", "{\"Container\":\"a1\"}"), 404));
        c.add(a("another owner's container connected to a network of the caller's", "alice",
                post("/v1.45/networks/alicenet/connect", "{\"Container\":\"b1\"}"), 403));
        c.add(a("another owner's container disconnected", "alice",
                post("/v1.45/networks/alicenet/disconnect", "{\"container\":\"b1\",\"Force\":true}"), 403));
        c.add(a("host device", "alice", create(withHost("{\"Devices\":[{\"PathOnHost\":\"/dev/sda\",\"PathInContainer\":\"/dev/sda\",\"CgroupPermissions\":\"rwm\"}]}")), 403));
        c.add(a("device cgroup rule", "alice", create(withHost("{\"DeviceCgroupRules\":[\"b *:* rwm\"]}")), 403));
        c.add(a("host device, lower-case keys", "alice", create(withHost("{\"devices\":[{\"pathonhost\":\"/dev/fuse\"}]}")), 403));
        c.add(a("device cgroup rule, any device", "alice", create(withHost("{\"DeviceCgroupRules\":[\"a *:* rwm\"]}")), 403));
        c.add(a("host pid, lower-case key", "alice", create(withHost("{\"pidmode\":\"host\"}")), 403));
        c.add(a("join another container's ipc namespace", "alice", create(withHost("{\"IpcMode\":\"container:b1\"}")), 403));
        c.add(a("sysctl even namespaced", "alice", create(withHost("{\"Sysctls\":{\"kernel.shmmax\":\"1\"}}")), 403));
        c.add(a("seccomp unconfined", "alice", create(withHost("{\"SecurityOpt\":[\"seccomp=unconfined\"]}")), 403));
        c.add(a("apparmor unconfined, old syntax", "alice", create(withHost("{\"SecurityOpt\":[\"apparmor:unconfined\"]}")), 403));
        c.add(a("sysctls", "alice", create(withHost("{\"Sysctls\":{\"kernel.core_pattern\":\"|/tmp/x\"}}")), 403));
        c.add(a("other runtime", "alice", create(withHost("{\"Runtime\":\"crun\"}")), 403));
        c.add(a("OOM killer disabled", "alice", create(withHost("{\"Memory\":67108864,\"OomKillDisable\":true}")), 403));
        c.add(a("OOM killer disabled, lower-case key", "alice", create(withHost("{\"oomkilldisable\":true}")), 403));
        c.add(a("negative OOM score: others die first", "alice", create(withHost("{\"OomScoreAdj\":-1000}")), 403));
        c.add(a("root group added when root is not allowed", "ci-runner", create("{\"Image\":\"busybox\",\"User\":\"1000\","
                + "\"HostConfig\":{\"Memory\":67108864,\"PidsLimit\":10,\"GroupAdd\":[\"0\"]}}"), 403));
        c.add(a("group added by name when root is not allowed", "ci-runner", create("{\"Image\":\"busybox\",\"User\":\"1000\","
                + "\"HostConfig\":{\"Memory\":67108864,\"PidsLimit\":10,\"GroupAdd\":[\"root\"]}}"), 403));
        c.add(a("MaskedPaths emptied", "alice", create(withHost("{\"MaskedPaths\":[]}")), 400, 403));
        c.add(a("VolumesFrom another owner's container", "alice", create(withHost("{\"VolumesFrom\":[\"b1\"]}")), 403));
        c.add(a("VolumesFrom another owner's container read-only, lower-case key", "alice",
                create(withHost("{\"volumesfrom\":[\"b1:ro\"]}")), 403));
        c.add(a("cgroup parent of the caller's choosing", "alice", create(withHost("{\"CgroupParent\":\"/system.slice\"}")), 403));
        c.add(a("owner label spoofed", "alice", create("{\"Image\":\"busybox\",\"Labels\":{\"io.dockgate.owner\":\"tls:bob\"}}"), 403));
        c.add(a("owner label in other case", "alice", create("{\"Image\":\"busybox\",\"Labels\":{\"IO.DOCKGATE.OWNER\":\"tls:bob\"}}"), 403));
        c.add(a("owner label under a lower-case labels key", "alice", create("{\"Image\":\"busybox\",\"labels\":{\"io.dockgate.owner\":\"tls:bob\"}}"), 403));
        c.add(a("User 00 for the CI identity", "ci-runner", create("{\"Image\":\"busybox\",\"User\":\"00\",\"HostConfig\":{\"Memory\":67108864,\"PidsLimit\":10}}"), 403));
        c.add(a("User 0:0 for the CI identity", "ci-runner", create("{\"Image\":\"busybox\",\"User\":\"0:0\",\"HostConfig\":{\"Memory\":67108864,\"PidsLimit\":10}}"), 403));
        c.add(a("User root, key lower case", "ci-runner", create("{\"Image\":\"busybox\",\"user\":\"root\",\"HostConfig\":{\"Memory\":67108864,\"PidsLimit\":10}}"), 403));
        c.add(a("no user: the image's root", "ci-runner", create("{\"Image\":\"busybox\",\"HostConfig\":{\"Memory\":67108864,\"PidsLimit\":10}}"), 403));
        c.add(a("image outside the pattern", "ci-runner", create("{\"Image\":\"other:1\",\"User\":\"1000\",\"HostConfig\":{\"Memory\":67108864,\"PidsLimit\":10}}"), 403));
        c.add(a("memory limit missing (0 means none)", "ci-runner", create("{\"Image\":\"busybox\",\"User\":\"1000\",\"HostConfig\":{\"Memory\":0,\"PidsLimit\":10}}"), 403));
        c.add(a("update lifts the pids limit", "ci-runner", post("/v1.45/containers/ci-box/update", "{\"PidsLimit\":-1}"), 403));
        c.add(a("update of a missing container: missing before any constraint", "ci-runner",
                post("/v1.45/containers/ci-none/update", "{\"PidsLimit\":-1}"), 404));
        // registries: pushes, logins, pulls, searches and manifest lookups go only where the binding allows
        c.add(a("push to a registry the binding does not name", "ci-runner", post("/v1.45/images/busybox/push?tag=latest", ""), 403));
        c.add(a("push to an allowed registry, repository outside the pattern", "ci-runner",
                post("/v1.45/images/127.0.0.1:5000/other/push?tag=1", ""), 403));
        c.add(a("push of every tag of a repository beside the allowed ones", "ci-runner",
                post("/v1.45/images/127.0.0.1:5000/ci-not/app/push", ""), 403));
        c.add(a("push by an identity without image.push", "alice", post("/v1.45/images/127.0.0.1:5000/ci/app/push?tag=1", ""), 403));
        c.add(a("login to a registry the binding does not name", "ci-runner",
                post("/v1.45/auth", "{\"username\":\"u\",\"password\":\"p\",\"serveraddress\":\"evil.example.com\"}"), 403));
        c.add(a("login address hiding a host behind user-info", "ci-runner",
                post("/v1.45/auth", "{\"username\":\"u\",\"password\":\"p\",\"serveraddress\":\"https://127.0.0.1:5000@evil.example.com/\"}"), 403));
        c.add(a("login address twice, in two cases", "ci-runner",
                post("/v1.45/auth", "{\"serveraddress\":\"127.0.0.1:5000\",\"ServerAddress\":\"evil.example.com\"}"), 400));
        c.add(a("login without a server address: Docker Hub", "ci-runner", post("/v1.45/auth", "{\"username\":\"u\",\"password\":\"p\"}"), 403));
        c.add(a("pull from a registry the binding does not name", "ci-runner",
                post("/v1.45/images/create?fromImage=evil.example.com/ci/app&tag=1", ""), 403));
        c.add(a("search at a host behind user-info", "ci-runner", get("/v1.45/images/search?term=127.0.0.1:5000@evil.example.com/x"), 403));
        c.add(a("manifest lookup at a registry the binding does not name", "ci-runner", get("/v1.45/distribution/evil.example.com/x:1/json"), 403));
        // volumes: the local driver's bind device is a host mount
        c.add(a("volume bind device /", "alice", post("/v1.45/volumes/create", "{\"Name\":\"v1\",\"DriverOpts\":{\"type\":\"none\",\"o\":\"bind\",\"device\":\"/\"}}"), 403));
        c.add(a("volume bind device /etc, keys lower case", "alice", post("/v1.45/volumes/create", "{\"name\":\"v2\",\"driveropts\":{\"o\":\"bind\",\"device\":\"/etc\"}}"), 403));
        c.add(a("volume nfs", "alice", post("/v1.45/volumes/create", "{\"Name\":\"v3\",\"DriverOpts\":{\"type\":\"nfs\",\"o\":\"addr=10.0.0.1\",\"device\":\":/export\"}}"), 403));
        c.add(a("volume driver plugin", "alice", post("/v1.45/volumes/create", "{\"Name\":\"v4\",\"Driver\":\"evil\"}"), 403));
        // exec
        c.add(a("privileged exec", "alice", post("/v1.45/containers/a1/exec", "{\"Cmd\":[\"id\"],\"Privileged\":true}"), 403));
        c.add(a("privileged exec, key lower case", "alice", post("/v1.45/containers/a1/exec", "{\"cmd\":[\"id\"],\"privileged\":true}"), 403));
        c.add(a("start a privileged exec an administrator created", "alice", post("/v1.45/exec/" + privilegedExecInAlices + "/start", "{\"Detach\":true}"), 403));
        // 10. others' objects: as if they did not exist
        c.add(a("inspect another's container", "alice", get("/v1.45/containers/b1/json"), 404));
        c.add(a("stop another's container", "alice", post("/v1.45/containers/b1/stop", ""), 404));
        c.add(a("delete another's container", "alice", "DELETE /v1.45/containers/b1?force=1 HTTP/1.1\r\nHost: d\r\n\r\n", 404));
        c.add(a("another's logs", "alice", get("/v1.45/containers/b1/logs?stdout=1&stderr=1"), 404));
        c.add(a("another's files", "alice", get("/v1.45/containers/b1/archive?path=/etc/passwd"), 404));
        c.add(a("another's export", "alice", get("/v1.45/containers/b1/export"), 404));
        c.add(a("exec into another's container", "alice", post("/v1.45/containers/b1/exec", "{\"Cmd\":[\"id\"]}"), 404));
        c.add(a("another's container by ID prefix", "alice", get("/v1.45/containers/" + bobsContainer.substring(0, 6) + "/json"), 404));
        c.add(a("another's container by full ID", "alice", post("/v1.45/containers/" + bobsContainer + "/kill", ""), 404));
        c.add(a("start another's exec", "alice", post("/v1.45/exec/" + bobsExec + "/start", "{\"Detach\":true}"), 404));
        c.add(a("start another's privileged exec: missing, not forbidden", "alice",
                post("/v1.45/exec/" + privilegedExecInBobs + "/start", "{\"Detach\":true}"), 404));
        c.add(a("a second JSON value after the body", "alice", create("{\"Image\":\"busybox\"}{\"Image\":\"busybox\",\"HostConfig\":"
                + "{\"Privileged\":true}}"), 400));
        c.add(a("duplicate key in the same case", "alice", create("{\"Image\":\"busybox\",\"HostConfig\":{\"Privileged\":true,"
                + "\"Privileged\":false}}"), 400));
        c.add(a("two HostConfig objects", "alice", create("{\"Image\":\"busybox\",\"HostConfig\":{\"Privileged\":true},"
                + "\"HostConfig\":{}}"), 400));
        c.add(a("inspect another's exec", "alice", get("/v1.45/exec/" + bobsExec + "/json"), 404));
        c.add(a("a one-character ID prefix none of alice's containers has", "alice",
                get("/v1.45/containers/" + prefixNoneOfAlicesHas + "/json"), 404, 400));
        c.add(a("inspect another's volume", "alice", get("/v1.45/volumes/bobvol"), 404));
        c.add(a("delete another's volume", "alice", "DELETE /v1.45/volumes/bobvol HTTP/1.1\r\nHost: d\r\n\r\n", 404));
        c.add(a("mount another's volume through Binds", "alice", create(withHost("{\"Binds\":[\"bobvol:/d\"]}")), 403));
        c.add(a("mount another's volume through Mounts", "alice", create(withHost("{\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"bobvol\",\"Target\":\"/d\"}]}")), 403));
        c.add(a("owner label on a new volume", "alice", post("/v1.45/volumes/create", "{\"Name\":\"v5\",\"Labels\":{\"io.dockgate.owner\":\"tls:bob\"}}"), 403));
        // 7. hijack paths classified like everything else
        c.add(a("attach to another's container", "alice", "POST /v1.45/containers/b1/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", 404));
        c.add(a("attach without the right", "val", "POST /v1.45/containers/a1/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", 403));
        c.add(a("exec start without the right", "val", post("/v1.45/exec/" + bobsExec + "/start", "{\"Tty\":false}"), 403));
        // 9. read exfiltration is its own right
        c.add(a("logs for a viewer", "val", get("/v1.45/containers/a1/logs?stdout=1"), 403));
        c.add(a("export for a viewer", "val", get("/v1.45/containers/a1/export"), 403));
        c.add(a("archive for a viewer", "val", get("/v1.45/containers/a1/archive?path=/"), 403));
        c.add(a("archive HEAD for a viewer", "val", "HEAD /v1.45/containers/a1/archive?path=/ HTTP/1.1\r\nHost: d\r\n\r\n", 403));
        c.add(a("image save for a viewer", "val", get("/v1.45/images/get?names=busybox"), 403));
        // 5 and 8. framing and bodies
        c.add(a("Content-Length with Transfer-Encoding", "alice", "POST /v1.45/containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 400));
        c.add(a("duplicate Content-Length", "alice", "POST /v1.45/containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400));
        c.add(a("Transfer-Encoding gzip, chunked", "alice", "POST /v1.45/containers/create HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501));
        c.add(a("space before a header colon", "alice", "POST /v1.45/containers/create HTTP/1.1\r\nHost: d\r\nTransfer-Encoding : chunked\r\nContent-Length: 2\r\n\r\n{}", 400));
        c.add(a("folded header", "alice", "GET /v1.45/info HTTP/1.1\r\nHost: d\r\nX-A: 1\r\n continued\r\n\r\n", 400));
        c.add(a("odd Expect", "alice", "POST /v1.45/containers/create HTTP/1.1\r\nHost: d\r\nExpect: 200-ok\r\nContent-Length: 2\r\n\r\n{}", 417));
        String privileged = withHost("{\"Privileged\":true}");
        c.add(a("Content-Length 0 with a body behind it", "alice", "POST /v1.45/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n" + privileged, 400));
        c.add(a("chunked body read in full", "alice", "POST /v1.45/containers/create HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(10) + "\r\n" + privileged.substring(0, 10) + "\r\n" + Integer.toHexString(privileged.length() - 10) + "\r\n"
                + privileged.substring(10) + "\r\n0\r\n\r\n", 403));
        c.add(a("Content-Type that is not JSON", "alice", "POST /v1.45/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
                + privileged.length() + "\r\n\r\n" + privileged, 403));
        String padding = " ".repeat(300 * 1024);
        c.add(a("oversized body padding a privileged create", "alice", create(privileged + padding), 413));
        c.add(a("oversized chunked body", "alice", "POST /v1.45/containers/create HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(padding.length()) + "\r\n" + padding + "\r\n0\r\n\r\n", 413));
        c.add(a("not JSON at all", "alice", create("privileged=true"), 400));
        // 10b. swarm services: their tasks are judged as the containers they run (answered by a swarm manager in upstream mode)
        c.add(a("service binding /etc", "alice", post("/v1.45/services/create", "{\"Name\":\"s1\",\"TaskTemplate\":{\"ContainerSpec\":"
                + "{\"Image\":\"busybox\",\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/etc\",\"Target\":\"/x\"}]}}}"), 403));
        c.add(a("service adding SYS_ADMIN, keys lower case", "alice", post("/v1.45/services/create", "{\"taskTemplate\":{\"containerspec\":"
                + "{\"image\":\"busybox\",\"capabilityadd\":[\"CAP_SYS_ADMIN\"]}}}"), 403));
        c.add(a("service unconfined by seccomp", "alice", post("/v1.45/services/create", "{\"TaskTemplate\":{\"ContainerSpec\":"
                + "{\"Image\":\"busybox\",\"Privileges\":{\"Seccomp\":{\"Mode\":\"unconfined\"}}}}}"), 400, 403));
        c.add(a("service publishing on every address", "alice", post("/v1.45/services/create", "{\"TaskTemplate\":{\"ContainerSpec\":"
                + "{\"Image\":\"busybox\"}},\"EndpointSpec\":{\"Ports\":[{\"TargetPort\":80,\"PublishedPort\":8080}]}}"), 403));
        c.add(a("service field dockgate cannot judge", "alice", post("/v1.45/services/create", "{\"TaskTemplate\":{\"ContainerSpec\":"
                + "{\"Image\":\"busybox\",\"FutureHostThing\":\"/\"}}}"), 400));
        c.add(a("service running a plugin", "alice", post("/v1.45/services/create", "{\"TaskTemplate\":{\"PluginSpec\":"
                + "{\"Name\":\"evil/plugin\"}}}"), 400));
        c.add(a("service on another owner's network", "alice", post("/v1.45/services/create", "{\"TaskTemplate\":{\"ContainerSpec\":"
                + "{\"Image\":\"busybox\"},\"Networks\":[{\"Target\":\"bobnet\"}]}}"), 403));
        c.add(a("secret create not granted", "alice", post("/v1.45/secrets/create", "{\"Name\":\"x\",\"Data\":\"eA==\"}"), 403));
        // 12. image tenancy: another tenant's image by every name it has, missing to dave as Docker says it (404)
        String id = carolsImage;
        c.add(a("tag another's image by ID prefix", "dave", post("/v1.45/images/" + id.substring(0, 12) + "/tag?repo=stolen&tag=1", ""), 404));
        c.add(a("tag another's image by its name", "dave", post("/v1.45/images/app:1/tag?repo=stolen&tag=1", ""), 404));
        c.add(a("inspect another's image by full ID", "dave", get("/v1.45/images/sha256:" + id + "/json"), 404));
        c.add(a("inspect another's image, encoded ID", "dave", get("/v1.45/images/sha256%3A" + id + "/json"), 404));
        c.add(a("history of another's image by short prefix", "dave", get("/v1.45/images/" + id.substring(0, 5) + "/history"), 404));
        c.add(a("delete another's image by ID, forced", "dave", "DELETE /v1.45/images/" + id + "?force=1 HTTP/1.1\r\nHost: d\r\n\r\n", 404));
        c.add(a("delete another's image by name", "dave", "DELETE /v1.45/images/app:1?force=1 HTTP/1.1\r\nHost: d\r\n\r\n", 404));
        c.add(a("run another's image by ID prefix", "dave", create("{\"Image\":\"" + id.substring(0, 12) + "\",\"Cmd\":[\"true\"]}"), 404));
        c.add(a("run another's image by full ID", "dave", create("{\"image\":\"sha256:" + id + "\"}"), 404));
        c.add(a("run another's image by name", "dave", create("{\"Image\":\"app:1\"}"), 404));
        c.add(a("push another's image", "dave", "POST /v1.45/images/app/push?tag=1 HTTP/1.1\r\nHost: d\r\nX-Registry-Auth: e30=\r\n"
                + "Content-Length: 0\r\n\r\n", 404));
        c.add(a("push every tag of another's repository", "dave", "POST /v1.45/images/app/push HTTP/1.1\r\nHost: d\r\n"
                + "X-Registry-Auth: e30=\r\nContent-Length: 0\r\n\r\n", 404));
        // 11. no binding: denied, not allowed by default
        c.add(a("an identity no binding names", "mallory", get("/v1.45/_ping"), 403));
        c.add(a("nobody may list for mallory", "mallory", get("/v1.45/containers/json"), 403));
        return c;
    }

    @TestFactory
    Stream<DynamicTest> everyAttackIsRefusedAndAudited() {
        List<Attack> corpus = corpus();
        assertThat(corpus).hasSizeGreaterThanOrEqualTo(60);
        return corpus.stream().map(attack -> DynamicTest.dynamicTest(attack.name(), () -> {
            long before = f.audit().count("\"decision\":\"deny\"");
            String response = f.raw(attack.who(), attack.request());
            assertThat(response).as(attack.name() + ": no response").isNotEmpty();
            int status = RawHttp.status(response);
            assertThat(attack.refused()).as(attack.name() + " answered " + response).contains(status);
            assertThat(RawHttp.header(response, "Content-Type")).as(attack.name()).isIn("application/json", null);
            if (status == 403 && !attack.name().contains("HEAD")) {
                assertThat(RawHttp.body(response)).startsWith("{\"message\":\"authorization denied by dockgate: ");
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (f.audit().count("\"decision\":\"deny\"") <= before && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(f.audit().count("\"decision\":\"deny\"")).as(attack.name() + " is audited as a denial").isGreaterThan(before);
        }));
    }

    /**
     * Framing on the Unix socket, each as the first request of its connection (the guard must be in
     * place before the first byte), and a body that arrives in pieces.
     */
    @Test
    void framingIsCheckedFromTheFirstByteOnTheUnixSocketToo() throws Exception {
        String[][] attacks = {
            {"POST /v1.45/containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", "400"},
            {"POST /v1.45/containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}", "400"},
            {"POST /v1.45/containers/create HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", "501"},
        };
        for (String[] attack : attacks) {
            long before = f.audit().count("\"decision\":\"deny\"");
            String response = RawHttp.unix(f.socket(), f.versioned(attack[0]));
            assertThat(RawHttp.status(response)).as(attack[0] + "\n" + response).isEqualTo(Integer.parseInt(attack[1]));
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (f.audit().count("\"decision\":\"deny\"") <= before && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(f.audit().count("\"decision\":\"deny\"")).isGreaterThan(before);
        }
        // a body in three pieces, the first request of its connection: followed, not mistaken for a head
        String body = "{\"Image\":\"busybox\",\"Cmd\":[\"true\"],\"Labels\":{\"split\":\"yes\"}}";
        try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            ch.connect(java.net.UnixDomainSocketAddress.of(f.socket()));
            String head = f.versioned("POST /v1.45/containers/create?name=split HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length() + "\r\n\r\n");
            for (String piece : new String[] {head + body.substring(0, 5), body.substring(5, 20), body.substring(20)}) {
                ch.write(java.nio.ByteBuffer.wrap(piece.getBytes(StandardCharsets.ISO_8859_1)));
                Thread.sleep(150);
            }
            String response = RawHttp.readResponse(java.nio.channels.Channels.newInputStream(ch));
            assertThat(RawHttp.status(response)).as(response).isEqualTo(201);
        }
        f.root("rm", "split");
    }

    @Test
    void theChainOfTheAuditLogIsIntactAfterTheCorpus() throws Exception {
        assertThat(io.dockgate.gateway.audit.AuditVerifier.verify(f.audit().file()).ok()).isTrue();
        assertThat(f.root("inspect", "-f", "{{.State.Running}}", "b1").stdout().trim()).isEqualTo("true");
        assertThat(f.root("volume", "ls", "-q").stdout()).doesNotContain("v1", "v2", "v3", "v4", "v5").contains("bobvol");
    }
}
