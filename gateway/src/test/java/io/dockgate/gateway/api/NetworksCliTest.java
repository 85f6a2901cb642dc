package io.dockgate.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.CliSession;
import io.dockgate.gateway.testing.DockerCli;
import io.dockgate.gateway.testing.TestNetworking;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bridge networks through the real docker CLI, over mutual TLS and the Unix socket: the default bridge
 * and user networks, containers reaching each other and isolated across networks, published ports from
 * 127.0.0.1 and from the bridge's address, -P, a taken port, hairpin, teardown, events. Traffic goes only
 * to 127.0.0.1 and to the networks this test creates (the default bridge is the test's own, 172.31.213.0/24).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NetworksCliTest {
    private static final String BRIDGE = "dgtest0";
    private static final String GATEWAY = "172.31.213.1";
    /** The resolver the daemon forwards other names to: this test's own, on a loopback address. */
    private static final String UPSTREAM = "127.0.0.77";
    private FakeResolver upstream;

    @TempDir
    static Path tmp;
    private CliSession cli;
    private CliSession tls;

    @BeforeAll
    void start() throws Exception {
        upstream = new FakeResolver(UPSTREAM, "example.test", "192.0.2.10");
        java.util.Map<io.dockgate.config.ConfigKey, Object> flags = new java.util.HashMap<>(TestNetworking.flags(BRIDGE, GATEWAY + "/24"));
        flags.put(io.dockgate.config.ConfigKey.DNS, List.of(UPSTREAM));
        cli = CliSession.startWithTls(tmp, flags);
        tls = cli.overTls();
        cli.ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox");
    }

    @AfterAll
    void stop() throws Exception {
        try {
            TestNetworking.removeNetworksAndClose(cli, BRIDGE);
        } finally {
            upstream.close();
        }
    }

    /** The body of a plain HTTP GET to host:port (busybox httpd serving /etc), or the failure. */
    private static String get(String host, int port, String path) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 3000);
            s.setSoTimeout(3000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.0\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "failed: " + e;
        }
    }

    /** As {@link #get}, retried for up to 5 s while the connection is refused (the server in the container starting). */
    private static String getWhenListening(String host, int port, String path) throws InterruptedException {
        String r = get(host, port, path);
        for (int i = 0; i < 50 && r.startsWith("failed: java.net.ConnectException"); i++) {
            Thread.sleep(100);
            r = get(host, port, path);
        }
        return r;
    }

    private String ip(String container, String network) throws Exception {
        return cli.ok("inspect", "-f", "{{(index .NetworkSettings.Networks \"" + network + "\").IPAddress}}", container).stdout().trim();
    }

    /** A client container's view of http://target/path on a network (busybox wget, bounded by timeout). */
    private DockerCli.Result fetch(CliSession session, String network, String target) throws Exception {
        // wget must not be PID 1, which SIGTERM cannot end (busybox's timeout execs the program and signals it): the
        // shell stays, since a command follows
        return session.docker("run", "--rm", "--network", network, "busybox", "sh", "-c", "timeout 5 wget -q -O - http://" + target
                + "/passwd; exit $?");
    }

    @Test
    void theDefaultBridgeGivesAnAddressAndARoute() throws Exception {
        List<String> before = TestNetworking.links("veth");
        DockerCli.Result r = tls.docker("run", "--rm", "busybox", "sh", "-c", "ip -4 addr show eth0; ip route; cat /etc/hosts");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).containsPattern("inet 172\\.31\\.213\\.\\d+/24").contains("default via " + GATEWAY + " dev eth0");
        String bridge = cli.ok("network", "inspect", "bridge", "-f", "{{json .IPAM.Config}} {{.Driver}}").stdout().trim();
        assertThat(bridge).isEqualTo("[{\"Subnet\":\"172.31.213.0/24\",\"Gateway\":\"" + GATEWAY + "\"}] bridge");
        assertThat(TestNetworking.links("veth")).as("the run's veth is gone with it").isEqualTo(before);
    }

    @Test
    void containersOnOneNetworkReachEachOtherAndNetworksAreIsolated() throws Exception {
        cli.ok("network", "create", "--label", "team=a", "front");
        tls.ok("network", "create", "--subnet", "10.213.8.0/24", "--gateway", "10.213.8.254", "back");
        assertThat(cli.ok("network", "ls", "--filter", "label=team=a", "--format", "{{.Name}}").stdout().trim()).isEqualTo("front");
        cli.ok("run", "-d", "--name", "web1", "--network", "front", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc");
        tls.ok("run", "-d", "--name", "web2", "--network", "back", "--ip", "10.213.8.7", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc");
        String ip1 = ip("web1", "front");
        assertThat(ip("web2", "back")).isEqualTo("10.213.8.7");
        assertThat(fetch(cli, "front", ip1).stdout()).startsWith("root:x:0:0");
        assertThat(fetch(tls, "back", "10.213.8.7").stdout()).startsWith("root:x:0:0");
        DockerCli.Result across = fetch(cli, "back", ip1);
        assertThat(across.stdout()).as("another network's container is out of reach").isEmpty();
        assertThat(across.exitCode()).isNotZero();
        String members = cli.ok("network", "inspect", "back", "-f", "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}").stdout();
        assertThat(members.trim()).isEqualTo("web2 10.213.8.7/24");
        DockerCli.Result busy = cli.docker("network", "rm", "back");
        assertThat(busy.stderr()).contains("has active endpoints");
    }

    @Test
    void publishedPortsAnswerOnLoopbackAndTheBridgeAddressWithHairpin() throws Exception {
        int p1 = freePort();
        int p2 = freePort();
        cli.ok("run", "-d", "--name", "pub", "-p", "127.0.0.1:" + p1 + ":80", "-p", p2 + ":80", "busybox", "httpd", "-f", "-p", "80", "-h",
                "/etc");
        assertThat(getWhenListening("127.0.0.1", p1, "/passwd")).contains("root:x:0:0"); // httpd may not listen yet
        assertThat(get("127.0.0.1", p2, "/passwd")).contains("root:x:0:0");
        assertThat(get(GATEWAY, p2, "/group")).contains("root:x:0:");
        assertThat(cli.ok("port", "pub").stdout()).contains("80/tcp -> 127.0.0.1:" + p1, "80/tcp -> 0.0.0.0:" + p2);
        assertThat(cli.ok("ps", "--filter", "name=pub", "--format", "{{.Ports}}").stdout())
                .contains("127.0.0.1:" + p1 + "->80/tcp", "0.0.0.0:" + p2 + "->80/tcp");
        // hairpin: the container reaches its own published port through the host
        DockerCli.Result hairpin = cli.docker("exec", "pub", "timeout", "5", "wget", "-q", "-O", "-", "http://" + GATEWAY + ":" + p2
                + "/passwd");
        assertThat(hairpin.stdout()).as(hairpin.toString()).startsWith("root:x:0:0");
        DockerCli.Result taken = cli.docker("run", "-d", "--name", "pub2", "-p", p2 + ":80", "busybox", "sleep", "30");
        assertThat(taken.exitCode()).isNotZero();
        assertThat(taken.stderr()).contains("port is already allocated");
        cli.ok("rm", "-f", "pub");
        assertThat(get("127.0.0.1", p1, "/passwd")).as("unpublished with the container").doesNotContain("root:x");
    }

    @Test
    void publishAllUsesEphemeralPortsForTheExposedOnes() throws Exception {
        cli.ok("run", "-d", "--name", "all", "-P", "--expose", "80", "--expose", "81", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc");
        String ports = cli.ok("port", "all").stdout();
        assertThat(ports).containsPattern("80/tcp -> 0\\.0\\.0\\.0:\\d+").containsPattern("81/tcp -> 0\\.0\\.0\\.0:\\d+");
        int port = Integer.parseInt(cli.ok("port", "all", "80").stdout().lines().findFirst().orElseThrow().replaceAll(".*:", ""));
        String[] range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim().split("\\s+");
        assertThat(port).isBetween(Integer.parseInt(range[0]), Integer.parseInt(range[1]));
        assertThat(getWhenListening("127.0.0.1", port, "/passwd")).contains("root:x:0:0");
    }

    @Test
    void startAndStopAreNetworkEventsAndLeaveNothingBehind() throws Exception {
        cli.ok("network", "create", "evnet");
        String since = String.valueOf(System.currentTimeMillis() / 1000 - 1);
        String id = cli.ok("run", "-d", "--network", "evnet", "busybox", "sleep", "60").stdout().trim();
        assertThat(Files.list(tmp.resolve("exec/netns")).map(p -> p.getFileName().toString()).toList()).contains(id);
        cli.ok("rm", "-f", id);
        String until = String.valueOf(System.currentTimeMillis() / 1000 + 1);
        String events = cli.ok("events", "--since", since, "--until", until, "--filter", "type=network", "--format",
                "{{.Action}} {{.Actor.Attributes.container}} {{.Actor.Attributes.name}}").stdout();
        assertThat(events).contains("connect " + id + " evnet", "disconnect " + id + " evnet");
        assertThat(Files.list(tmp.resolve("exec/netns")).map(p -> p.getFileName().toString()).toList()).doesNotContain(id);
        cli.ok("network", "rm", "evnet");
    }

    private static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void userNetworksResolveNamesAliasesAndShortIdsAndForwardTheRest() throws Exception {
        cli.ok("network", "create", "dnsnet");
        String id = cli.ok("run", "-d", "--name", "db", "--hostname", "dbhost", "--network", "dnsnet", "--network-alias", "database",
                "busybox", "httpd", "-f", "-p", "80", "-h", "/etc").stdout().trim();
        String ip = ip("db", "dnsnet");
        for (String name : List.of("db", "database", "dbhost", id.substring(0, 12), "db.dnsnet", "DATABASE.dnsnet")) {
            DockerCli.Result r = tls.docker("run", "--rm", "--network", "dnsnet", "busybox", "nslookup", name, "127.0.0.11");
            assertThat(r.stdout()).as(name + ": " + r).contains("Address: " + ip);
        }
        assertThat(fetch(cli, "dnsnet", "database").stdout()).startsWith("root:x:0:0");
        DockerCli.Result resolv = cli.docker("run", "--rm", "--network", "dnsnet", "busybox", "cat", "/etc/resolv.conf");
        assertThat(resolv.stdout()).contains("nameserver 127.0.0.11", "options ndots:0");
        DockerCli.Result external = cli.docker("run", "--rm", "--network", "dnsnet", "busybox", "nslookup", "example.test", "127.0.0.11");
        assertThat(external.stdout()).as(external.toString()).contains("Address: 192.0.2.10");
        assertThat(upstream.queries()).isPositive();
        DockerCli.Result tcp = cli.docker("run", "--rm", "--network", "dnsnet", "busybox", "sh", "-c",
                "printf '\\000\\033\\000\\001\\001\\000\\000\\001\\000\\000\\000\\000\\000\\000\\002db\\006dnsnet\\000\\000\\001"
                        + "\\000\\001' | timeout 5 nc 127.0.0.11 53 | od -An -tu1 | tr -s ' \\n' ' '");
        String[] octets = ip.split("\\.");
        assertThat(tcp.stdout()).as("over TCP: " + tcp).contains(" " + String.join(" ", octets));
        // a container's own resolvers take the names the network does not know
        try (FakeResolver own = new FakeResolver("127.0.0.78", "other.test", "192.0.2.20")) {
            DockerCli.Result viaOwn = cli.docker("run", "--rm", "--network", "dnsnet", "--dns", "127.0.0.78", "--dns-search", "corp.test",
                    "busybox", "sh", "-c", "cat /etc/resolv.conf; nslookup other.test 127.0.0.11; exit 0");
            assertThat(viaOwn.stdout()).as(viaOwn.toString()).contains("nameserver 127.0.0.11", "search corp.test", "options ndots:0",
                    "Address: 192.0.2.20");
            assertThat(own.queries()).isPositive();
        }
        DockerCli.Result hosts = cli.docker("run", "--rm", "--add-host", "gw:host-gateway", "--add-host", "x.test:10.1.2.3", "busybox",
                "cat", "/etc/hosts");
        assertThat(hosts.stdout()).contains(GATEWAY + "\tgw", "10.1.2.3\tx.test");
        DockerCli.Result unknownOnBridge = cli.docker("run", "--rm", "busybox", "cat", "/etc/resolv.conf");
        assertThat(unknownOnBridge.stdout()).as("the default bridge has no embedded DNS").doesNotContain("127.0.0.11")
                .contains("nameserver " + UPSTREAM);
    }

    @Test
    void connectAndDisconnectRunningAndCreatedContainers() throws Exception {
        cli.ok("network", "create", "left");
        cli.ok("network", "create", "right");
        cli.ok("run", "-d", "--name", "lhs", "--network", "left", "busybox", "sleep", "300");
        cli.ok("run", "-d", "--name", "rhs", "--network", "right", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc");
        String since = String.valueOf(System.currentTimeMillis() / 1000 - 1);
        tls.ok("network", "connect", "--alias", "lefty", "right", "lhs");
        DockerCli.Result joined = cli.docker("exec", "lhs", "sh", "-c", "ip -4 -o addr show eth1; timeout 5 wget -q -O - http://rhs/passwd");
        assertThat(joined.stdout()).as(joined.toString()).contains("eth1").contains("root:x:0:0");
        assertThat(cli.ok("exec", "rhs", "nslookup", "lefty", "127.0.0.11").stdout()).contains("Address: " + ip("lhs", "right"));
        assertThat(cli.ok("inspect", "lhs", "-f", "{{len .NetworkSettings.Networks}}").stdout().trim()).isEqualTo("2");
        DockerCli.Result again = cli.docker("network", "connect", "right", "lhs");
        assertThat(again.stderr()).contains("already exists in network right");
        tls.ok("network", "disconnect", "right", "lhs");
        assertThat(cli.docker("exec", "lhs", "ip", "-o", "link", "show", "eth1").exitCode()).as("the interface is gone").isNotZero();
        assertThat(cli.ok("inspect", "lhs", "-f", "{{len .NetworkSettings.Networks}}").stdout().trim()).isEqualTo("1");
        // a created container joins the network when it starts
        cli.ok("create", "--name", "later", "--network", "left", "busybox", "sleep", "300");
        cli.ok("network", "connect", "right", "later");
        cli.ok("start", "later");
        assertThat(cli.ok("exec", "later", "ip", "-4", "-o", "addr").stdout()).contains("eth0", "eth1");
        String until = String.valueOf(System.currentTimeMillis() / 1000 + 1);
        String events = cli.ok("events", "--since", since, "--until", until, "--filter", "type=network", "--format",
                "{{.Action}} {{.Actor.Attributes.name}}").stdout();
        assertThat(events).contains("connect right", "disconnect right");
        DockerCli.Result host = cli.docker("network", "connect", "right", cli.ok("create", "--network", "host", "busybox", "true")
                .stdout().trim());
        assertThat(host.stderr()).contains("cannot be connected to any other network");
    }

    @Test
    void legacyLinksOnTheDefaultBridgeGiveHostsAndVariablesAndOnUserNetworksAPrivateName() throws Exception {
        cli.ok("run", "-d", "--name", "linked", "-e", "SECRET=s3", "--expose", "81", "--expose", "82", "busybox", "httpd", "-f", "-p",
                "80", "-h", "/etc");
        String childIp = cli.ok("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "linked").stdout().trim();
        DockerCli.Result r = tls.docker("run", "--rm", "--name", "linker", "--link", "linked:db", "busybox", "sh", "-c",
                "cat /etc/hosts; env | sort; timeout 5 wget -q -O - http://db/passwd; exit $?");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        String shortId = cli.ok("inspect", "-f", "{{.Config.Hostname}}", "linked").stdout().trim();
        assertThat(r.stdout()).contains(childIp + "\tdb " + shortId + " linked\n", "DB_NAME=/linker/db", "DB_ENV_SECRET=s3",
                "DB_PORT=tcp://" + childIp + ":81", "DB_PORT_82_TCP_ADDR=" + childIp, "DB_PORT_81_TCP_START=tcp://" + childIp + ":81",
                "DB_PORT_81_TCP_PORT_END=82", "root:x:0:0").doesNotContain("DB_ENV_PATH", "DB_ENV_HOSTNAME");
        cli.ok("create", "--name", "linker2", "--link", "linked", "busybox", "sleep", "300");
        assertThat(cli.ok("inspect", "-f", "{{json .HostConfig.Links}}", "linker2").stdout().trim()).isEqualTo("[\"/linked:/linker2/linked\"]");
        cli.ok("stop", "-t", "0", "linked");
        DockerCli.Result stopped = cli.docker("start", "linker2");
        assertThat(stopped.stderr()).contains("Cannot link to a non running container: /linked AS /linker2/linked");
        assertThat(cli.docker("run", "--rm", "--link", "nosuch:x", "busybox", "true").stderr())
                .contains("could not get container for nosuch");
        assertThat(cli.docker("run", "--rm", "--network", "host", "--link", "linked", "busybox", "true").stderr())
                .contains("host type networking can't be used with links");
        // on a user-defined network a link is a name only the linking container resolves
        cli.ok("network", "create", "linknet");
        cli.ok("run", "-d", "--name", "svc", "--network", "linknet", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc");
        assertThat(cli.ok("run", "--rm", "--network", "linknet", "--link", "svc:backend", "busybox", "sh", "-c",
                "timeout 5 wget -q -O - http://backend/passwd; exit $?").stdout()).startsWith("root:x:0:0");
        assertThat(cli.docker("run", "--rm", "--network", "linknet", "busybox", "nslookup", "backend", "127.0.0.11").stdout())
                .doesNotContain("Address: " + ip("svc", "linknet"));
    }

    @Test
    void aContainerCanShareAnothersNetworkNamespace() throws Exception {
        cli.ok("run", "-d", "--name", "donor", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc");
        String donorIp = cli.ok("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "donor").stdout().trim();
        DockerCli.Result r = tls.docker("run", "--rm", "--network", "container:donor", "busybox", "sh", "-c",
                "hostname; ip -4 -o addr show eth0; timeout 5 wget -q -O - http://127.0.0.1/passwd; exit $?");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        String donorHost = cli.ok("inspect", "-f", "{{.Config.Hostname}}", "donor").stdout().trim();
        assertThat(r.stdout()).startsWith(donorHost + "\n").contains("inet " + donorIp + "/").contains("root:x:0:0");
        String side = cli.ok("run", "-d", "--network", "container:donor", "busybox", "sleep", "300").stdout().trim();
        String donorId = cli.ok("inspect", "-f", "{{.Id}}", "donor").stdout().trim();
        assertThat(cli.ok("inspect", "-f", "{{.HostConfig.NetworkMode}} {{len .NetworkSettings.Networks}} {{.HostsPath}}", side)
                .stdout().trim()).isEqualTo("container:" + donorId + " 0 " + cli.ok("inspect", "-f", "{{.HostsPath}}", "donor").stdout().trim());
        assertThat(cli.docker("run", "--rm", "--network", "container:donor", "-p", "8080:80", "busybox", "true").stderr())
                .contains("conflicting options: port publishing and the container type network mode");
        assertThat(cli.docker("run", "--rm", "--network", "container:donor", "--hostname", "x", "busybox", "true").stderr())
                .contains("conflicting options: hostname and the network mode");
        assertThat(cli.docker("run", "--rm", "--network", "container:absent", "busybox", "true").stderr())
                .contains("joining network namespace of container: No such container: absent");
        assertThat(cli.docker("network", "connect", "bridge", side).stderr()).contains("cannot be connected to any other network");
        cli.ok("stop", "-t", "0", "donor");
        assertThat(cli.docker("run", "--rm", "--network", "container:donor", "busybox", "true").stderr())
                .contains("cannot join network namespace of a non running container: container donor is exited");
    }

    @Test
    void aContainerIsCreatedOnSeveralNetworks() throws Exception {
        cli.ok("network", "create", "multi1");
        cli.ok("network", "create", "--subnet", "10.213.9.0/24", "multi2");
        cli.ok("run", "-d", "--name", "m1", "--network", "multi1", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc");
        cli.ok("run", "-d", "--name", "m2", "--network", "multi2", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc");
        cli.ok("create", "--name", "both", "--network", "multi1", "--network", "name=multi2,ip=10.213.9.40,alias=twice", "busybox",
                "sleep", "300");
        assertThat(cli.ok("inspect", "-f", "{{len .NetworkSettings.Networks}}", "both").stdout().trim()).isEqualTo("2");
        cli.ok("start", "both");
        DockerCli.Result r = cli.docker("exec", "both", "sh", "-c", "ip -4 -o addr; timeout 5 wget -q -O - http://m1/passwd >/dev/null && "
                + "timeout 5 wget -q -O - http://m2/passwd");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("eth0", "eth1", "inet 10.213.9.40/24").contains("root:x:0:0");
        assertThat(cli.ok("exec", "m2", "nslookup", "twice", "127.0.0.11").stdout()).contains("Address: 10.213.9.40");
    }

    /** A resolver on a loopback address that answers one name with one address (A), NXDOMAIN otherwise. */
    static final class FakeResolver implements AutoCloseable {
        private final java.net.DatagramSocket socket;
        private final java.util.concurrent.atomic.AtomicInteger queries = new java.util.concurrent.atomic.AtomicInteger();

        FakeResolver(String address, String name, String answer) throws IOException {
            socket = new java.net.DatagramSocket(new InetSocketAddress(address, 53));
            Thread t = new Thread(() -> {
                byte[] buffer = new byte[512];
                while (!socket.isClosed()) {
                    try {
                        java.net.DatagramPacket p = new java.net.DatagramPacket(buffer, buffer.length);
                        socket.receive(p);
                        queries.incrementAndGet();
                        byte[] q = java.util.Arrays.copyOf(p.getData(), p.getLength());
                        int end = 12;
                        StringBuilder asked = new StringBuilder();
                        while (q[end] != 0) {
                            if (asked.length() > 0) {
                                asked.append('.');
                            }
                            asked.append(new String(q, end + 1, q[end], StandardCharsets.US_ASCII));
                            end += 1 + q[end];
                        }
                        end += 5;
                        boolean known = asked.toString().equalsIgnoreCase(name) && q[end - 3] == 1;
                        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                        out.write(q, 0, 2);
                        out.write(0x81);
                        out.write(known ? 0x80 : 0x83);
                        out.write(new byte[] {0, 1, 0, (byte) (known ? 1 : 0), 0, 0, 0, 0});
                        out.write(q, 12, end - 12);
                        if (known) {
                            out.write(new byte[] {(byte) 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4});
                            out.write(java.net.InetAddress.getByName(answer).getAddress());
                        }
                        byte[] reply = out.toByteArray();
                        socket.send(new java.net.DatagramPacket(reply, reply.length, p.getSocketAddress()));
                    } catch (IOException | RuntimeException e) {
                        // closed, or a malformed query
                    }
                }
            }, "fake-resolver");
            t.setDaemon(true);
            t.start();
        }

        int queries() {
            return queries.get();
        }

        @Override
        public void close() {
            socket.close();
        }
    }
}
