package io.dockgate.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.CliSession;
import io.dockgate.gateway.testing.DockerCli;
import io.dockgate.gateway.testing.RawHttp;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Docker behaviours clients depend on, each found by trying dockgate as new users would (issue 14):
 * a --rm run whose start fails, kill then remove, exec framing by the start request, a last line without
 * a newline, follow headers, attach without a stream, save of a missing image, docker diff, volume prune
 * by API version, swarm routes. The docker CLI where the symptom is in the CLI, raw HTTP elsewhere.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DockerBehaviourTest {
    @TempDir
    static Path tmp;
    private CliSession cli;
    private Path socket;

    @BeforeAll
    void start() throws Exception {
        cli = CliSession.start(tmp);
        socket = cli.socket();
        cli.ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox");
    }

    @AfterEach
    void clean() throws Exception {
        cli.removeAllContainers();
    }

    @AfterAll
    void stop() throws Exception {
        if (cli != null) {
            cli.close();
        }
    }

    private String raw(String method, String path, String body) throws Exception {
        String request = method + " " + path + " HTTP/1.1\r\nHost: docker\r\n"
                + (body == null ? "" : "Content-Type: application/json\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n")
                + "\r\n" + (body == null ? "" : body);
        return RawHttp.unix(socket, request);
    }

    @Test
    void aRemovedOnExitContainerWhoseStartFailsIsRemovedAndTheCliExitsWithDockersCodes() throws Exception {
        DockerCli.Result missing = cli.docker("run", "--rm", "busybox", "/no/such/binary");
        assertThat(missing.exitCode()).as(missing.toString()).isEqualTo(127);
        assertThat(missing.stderr()).contains("no such file or directory");
        assertThat(missing.stdout()).isEmpty(); // nothing written into the attached stream
        DockerCli.Result notExecutable = cli.docker("run", "--rm", "busybox", "/etc");
        assertThat(notExecutable.exitCode()).as(notExecutable.toString()).isEqualTo(126);
        DockerCli.Result badMount = cli.docker("run", "--rm", "--mount", "type=volume,target=/etc/hostname/x", "busybox", "true");
        assertThat(badMount.exitCode()).as(badMount.toString()).isNotZero();
        assertThat(cli.ok("ps", "-aq").stdout()).as("every --rm container whose start failed is gone").isBlank();
        DockerCli.Result kept = cli.docker("run", "--name", "kept", "busybox", "/no/such/binary");
        assertThat(kept.exitCode()).isEqualTo(127);
        assertThat(cli.ok("ps", "-a", "--format", "{{.Names}}").stdout().trim()).as("without --rm it stays").isEqualTo("kept");
    }

    @Test
    void killWithSigkillReturnsOnceTheContainerHasStoppedSoItCanBeRemovedAtOnce() throws Exception {
        for (int i = 0; i < 3; i++) {
            cli.ok("run", "-d", "--name", "killme", "busybox", "sleep", "300");
            assertThat(RawHttp.status(raw("POST", "/v1.50/containers/killme/kill", null))).isEqualTo(204);
            String inspect = raw("GET", "/v1.50/containers/killme/json", null);
            assertThat(inspect).contains("\"Running\":false", "\"ExitCode\":137");
            assertThat(RawHttp.status(raw("DELETE", "/v1.50/containers/killme", null))).isEqualTo(204);
        }
        cli.ok("run", "-d", "--name", "paused", "busybox", "sleep", "300");
        cli.ok("pause", "paused");
        assertThat(RawHttp.status(raw("POST", "/v1.50/containers/paused/kill", null))).isEqualTo(204);
        assertThat(RawHttp.status(raw("DELETE", "/v1.50/containers/paused", null))).isEqualTo(204);
    }

    @Test
    void execOutputIsFramedAsTheStartRequestAsks() throws Exception {
        cli.ok("run", "-d", "--name", "ex", "busybox", "sleep", "300");
        String created = raw("POST", "/v1.50/containers/ex/exec",
                "{\"Tty\":true,\"AttachStdout\":true,\"AttachStderr\":true,\"Cmd\":[\"echo\",\"framed\"]}");
        String id = RawHttp.body(created).replaceAll(".*\"Id\":\"([0-9a-f]+)\".*", "$1").trim();
        byte[] multiplexed = hijack(execStart(id, "{\"Detach\":false,\"Tty\":false}"));
        String text = new String(multiplexed, StandardCharsets.ISO_8859_1);
        assertThat(text).contains("application/vnd.docker.multiplexed-stream");
        byte[] payload = java.util.Arrays.copyOfRange(multiplexed, text.indexOf("\r\n\r\n") + 4, multiplexed.length);
        assertThat(payload[0]).as("a stdcopy header (stdout)").isEqualTo((byte) 1);
        assertThat(new String(payload, 8, payload.length - 8, StandardCharsets.UTF_8)).isEqualTo("framed\r\n");

        String again = raw("POST", "/v1.50/containers/ex/exec", "{\"Tty\":true,\"AttachStdout\":true,\"Cmd\":[\"echo\",\"raw\"]}");
        String id2 = RawHttp.body(again).replaceAll(".*\"Id\":\"([0-9a-f]+)\".*", "$1").trim();
        byte[] rawStream = hijack(execStart(id2, "{\"Detach\":false,\"Tty\":true}"));
        String rawText = new String(rawStream, StandardCharsets.ISO_8859_1);
        assertThat(rawText).contains("application/vnd.docker.raw-stream").endsWith("\r\n\r\nraw\r\n");
    }

    private static String execStart(String id, String body) {
        return "POST /v1.50/exec/" + id + "/start HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n"
                + "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
    }

    /** Sends the request on a Unix connection and reads until the daemon closes it. */
    private byte[] hijack(String request) throws Exception {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1)));
            return readUntilClosed(Channels.newInputStream(channel), 10);
        }
    }

    private static byte[] readUntilClosed(InputStream in, int seconds) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        var reader = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            reader.submit(() -> in.transferTo(out)).get(seconds, TimeUnit.SECONDS);
        } finally {
            reader.shutdownNow();
        }
        return out.toByteArray();
    }

    @Test
    void aLastLineWithoutANewlineIsInTheLogs() throws Exception {
        cli.ok("run", "--name", "partial", "busybox", "sh", "-c", "echo first; printf no-newline");
        assertThat(cli.ok("logs", "partial").stdout()).isEqualTo("first\nno-newline");
        assertThat(cli.ok("logs", "-f", "partial").stdout()).isEqualTo("first\nno-newline");
        assertThat(cli.ok("run", "--rm", "busybox", "printf", "alone").stdout()).isEqualTo("alone");
        DockerCli.Result attachLogs = cli.docker("attach", "partial");
        assertThat(attachLogs.stdout() + attachLogs.stderr()).contains("You cannot attach to a stopped container");
    }

    @Test
    void followedLogsSendTheirHeadersAtOnce() throws Exception {
        cli.ok("run", "-d", "--name", "quiet", "busybox", "sleep", "300");
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap("GET /v1.50/containers/quiet/logs?follow=1&stdout=1 HTTP/1.1\r\nHost: docker\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1)));
            InputStream in = Channels.newInputStream(channel);
            var reader = java.util.concurrent.Executors.newSingleThreadExecutor();
            try {
                byte[] head = reader.submit(() -> in.readNBytes(12)).get(3, TimeUnit.SECONDS);
                assertThat(new String(head, StandardCharsets.ISO_8859_1)).isEqualTo("HTTP/1.1 200");
            } finally {
                reader.shutdownNow();
            }
        }
    }

    @Test
    void attachWithoutAStreamUpgradesWritesTheLogsAndCloses() throws Exception {
        cli.ok("run", "--name", "said", "busybox", "echo", "hello");
        byte[] response = hijack("POST /v1.50/containers/said/attach?logs=1&stream=0&stdout=1 HTTP/1.1\r\nHost: docker\r\n"
                + "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
        String text = new String(response, StandardCharsets.ISO_8859_1);
        assertThat(text).startsWith("HTTP/1.1 101 UPGRADED\r\n").endsWith("\r\n\r\n\u0001\u0000\u0000\u0000\u0000\u0000\u0000\u0006hello\n");
        String plain = raw("POST", "/v1.50/containers/said/attach?logs=1&stream=0&stdout=1", null);
        assertThat(RawHttp.status(plain)).isEqualTo(200);
        assertThat(RawHttp.body(plain)).endsWith("hello\n");
    }

    @Test
    void savingAMissingImageIsA404BeforeAnyArchiveByte() throws Exception {
        String one = raw("GET", "/v1.50/images/no-such-image/get", null);
        assertThat(RawHttp.status(one)).isEqualTo(404);
        assertThat(RawHttp.body(one).trim()).isEqualTo("{\"message\":\"No such image: no-such-image\"}");
        assertThat(RawHttp.header(one, "Content-Type")).isEqualTo("application/json");
        String many = raw("GET", "/v1.50/images/get?names=busybox&names=no-such-image", null);
        assertThat(RawHttp.status(many)).isEqualTo(404);
        DockerCli.Result save = cli.docker("save", "-o", tmp.resolve("x.tar").toString(), "no-such-image");
        assertThat(save.exitCode()).isNotZero();
        assertThat(save.stderr()).contains("No such image: no-such-image");
    }

    @Test
    void diffLeavesOutTheDaemonsOwnMountPoints() throws Exception {
        cli.ok("run", "--name", "changed", "busybox", "sh", "-c", "touch /tmp/new; rm /bin/ls; cat /etc/hosts >/dev/null");
        assertThat(cli.ok("diff", "changed").stdout()).isEqualTo("C /bin\nD /bin/ls\nC /tmp\nA /tmp/new\n");
        cli.ok("run", "--name", "etc", "busybox", "sh", "-c", "echo x > /etc/extra");
        assertThat(cli.ok("diff", "etc").stdout()).isEqualTo("C /etc\nA /etc/extra\n");
        cli.ok("run", "--name", "nothing", "busybox", "true");
        assertThat(cli.ok("diff", "nothing").stdout()).isEmpty();
    }

    @Test
    void volumePruneFollowsTheApiVersionOfTheRequest() throws Exception {
        cli.ok("volume", "create", "named-old");
        cli.ok("volume", "create", "named-new");
        String v142 = raw("POST", "/v1.42/volumes/prune", null);
        assertThat(RawHttp.body(v142)).doesNotContain("named-old", "named-new");
        String v141 = raw("POST", "/v1.41/volumes/prune", null);
        assertThat(RawHttp.status(v141)).isEqualTo(200);
        assertThat(RawHttp.body(v141)).contains("named-old", "named-new");
        assertThat(cli.ok("volume", "ls", "-q").stdout()).doesNotContain("named-");
    }

    @Test
    void swarmRoutesAnswerAsANodeOutsideASwarm() throws Exception {
        String notManager = "This node is not a swarm manager. Use \\\"docker swarm init\\\" or \\\"docker swarm join\\\" to connect "
                + "this node to swarm and try again.";
        for (String path : new String[] {"/v1.41/swarm", "/v1.41/nodes", "/v1.41/services", "/v1.41/tasks", "/v1.41/secrets",
                "/v1.41/configs", "/v1.41/services/x", "/swarm"}) {
            String r = raw("GET", path, null);
            assertThat(RawHttp.status(r)).as(path).isEqualTo(503);
            assertThat(RawHttp.body(r).trim()).as(path).isEqualTo("{\"message\":\"" + notManager + "\"}");
        }
        String leave = raw("POST", "/v1.41/swarm/leave?force=1", null);
        assertThat(RawHttp.status(leave)).isEqualTo(503);
        assertThat(RawHttp.body(leave)).contains("This node is not part of a swarm");
        assertThat(RawHttp.status(raw("POST", "/v1.41/swarm/init", "{}"))).isEqualTo(501);
        DockerCli.Result ls = cli.docker("service", "ls");
        assertThat(ls.stderr()).contains("This node is not a swarm manager");
    }

    @Test
    void theOwnerIsNotAmongTheLabelsClientsReadBackButAdminsCanFilterByIt() throws Exception {
        cli.ok("volume", "create", "--label", "team=core", "labelled");
        cli.ok("run", "-d", "--name", "lab", "--label", "team=core", "-v", "labelled:/data", "busybox", "sleep", "300");
        assertThat(cli.ok("volume", "inspect", "-f", "{{json .Labels}}", "labelled").stdout().trim()).isEqualTo("{\"team\":\"core\"}");
        assertThat(cli.ok("volume", "ls", "--filter", "name=labelled", "--format", "{{.Labels}}").stdout().trim()).isEqualTo("team=core");
        assertThat(cli.ok("inspect", "-f", "{{json .Config.Labels}}", "lab").stdout().trim()).isEqualTo("{\"team\":\"core\"}");
        assertThat(cli.ok("ps", "--format", "{{.Labels}}").stdout().trim()).isEqualTo("team=core");
        assertThat(cli.ok("ps", "-q", "--filter", "label=io.dockgate.owner").stdout()).isBlank();
        String owner = "unix:0"; // root on the Unix socket: owner keys are tls:CN or unix:UID
        assertThat(cli.ok("ps", "--filter", "owner=" + owner, "--format", "{{.Names}}").stdout().trim()).isEqualTo("lab");
        assertThat(cli.ok("ps", "--filter", "owner=tls:someone-else", "--format", "{{.Names}}").stdout()).isBlank();
        assertThat(cli.ok("volume", "ls", "-q", "--filter", "owner=" + owner).stdout().lines()).contains("labelled");
        assertThat(cli.ok("volume", "ls", "-q", "--filter", "owner=tls:someone-else").stdout()).isBlank();
        String events = RawHttp.body(raw("GET", "/v1.50/events?since=0&until=" + (System.currentTimeMillis() / 1000 + 1)
                + "&filters=%7B%22type%22%3A%5B%22container%22%2C%22volume%22%5D%7D", null));
        assertThat(events).contains("\"team\":\"core\"").doesNotContain("io.dockgate.owner");
    }

    @Test
    void removingAnActiveContainerUsesTheWordingOfTheRequestsApiVersion() throws Exception {
        String id = cli.ok("run", "-d", "--name", "busy", "busybox", "sleep", "300").stdout().trim();
        String old = raw("DELETE", "/v1.41/containers/busy", null);
        assertThat(RawHttp.status(old)).isEqualTo(409);
        assertThat(RawHttp.body(old)).contains("You cannot remove a running container " + id
                + ". Stop the container before attempting removal or force remove");
        String now = raw("DELETE", "/v1.42/containers/busy", null);
        assertThat(RawHttp.body(now)).contains("cannot remove container \\\"/busy\\\": container is running: stop the container "
                + "before removing or force remove");
        cli.ok("pause", "busy");
        assertThat(RawHttp.body(raw("DELETE", "/v1.40/containers/busy", null))).contains("You cannot remove a paused container " + id);
        // dockerd 20.10's words, compared side by side with it
        String stopped = cli.ok("create", "--name", "idle", "busybox", "true").stdout().trim();
        String kill = raw("POST", "/v1.41/containers/idle/kill", null);
        assertThat(RawHttp.status(kill)).isEqualTo(409);
        assertThat(RawHttp.body(kill)).contains("Cannot kill container: idle: Container " + stopped + " is not running");
        String rename = raw("POST", "/v1.41/containers/idle/rename?name=busy", null);
        assertThat(RawHttp.body(rename)).contains("Error when allocating new name: Conflict. The container name \\\"/busy\\\" is already in use");
    }

    @Test
    void createFieldsAreHonouredAndShownOrRefusedNamingThem() throws Exception {
        DockerCli.Result run = cli.docker("run", "--rm", "--shm-size", "128m", "--oom-score-adj", "300", "--memory", "64m",
                "--memory-reservation", "32m", "--memory-swappiness", "10", "--group-add", "4242", "busybox", "sh", "-c",
                "df -k /dev/shm | tail -1; cat /proc/self/oom_score_adj; id -G; cat /sys/fs/cgroup/memory/memory.swappiness "
                        + "/sys/fs/cgroup/memory/memory.soft_limit_in_bytes");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.stdout()).contains(" 131072 ").contains("\n300\n", "\n0 4242\n", "\n10\n", "\n33554432\n");
        cli.ok("run", "-d", "--name", "shown", "--shm-size", "128m", "--stop-timeout", "7", "--oom-kill-disable", "--memory", "64m",
                "--log-driver", "local", "--group-add", "4242", "busybox", "sleep", "300");
        assertThat(cli.ok("inspect", "-f", "{{.HostConfig.ShmSize}} {{.Config.StopTimeout}} {{.HostConfig.OomKillDisable}} "
                + "{{.HostConfig.LogConfig.Type}} {{.HostConfig.GroupAdd}} {{.HostConfig.Isolation}}|", "shown").stdout().trim())
                .isEqualTo("134217728 7 true local [4242] |");
        cli.ok("create", "--name", "given", "--cpus", "1.5", "-v", tmp + ":/host:ro", "-v", "/anon", "busybox", "true");
        assertThat(cli.ok("inspect", "-f", "{{.HostConfig.NanoCpus}} {{.HostConfig.CpuQuota}} {{.HostConfig.Binds}} {{json .Config.Volumes}} "
                + "{{.Config.AttachStdout}} {{.Config.AttachStdin}}", "given").stdout().trim())
                .isEqualTo("1500000000 150000 [" + tmp + ":/host:ro] {\"/anon\":{}} true false");
        cli.ok("update", "--cpus", "0.5", "given");
        assertThat(cli.ok("inspect", "-f", "{{.HostConfig.NanoCpus}} {{.HostConfig.CpuQuota}}", "given").stdout().trim())
                .isEqualTo("500000000 50000");
        cli.ok("run", "-d", "--name", "files", "--log-opt", "max-file=3", "busybox", "sleep", "300"); // as dockerd 20.10
        assertThat(cli.ok("inspect", "-f", "{{json .HostConfig.LogConfig.Config}}", "files").stdout().trim()).isEqualTo("{\"max-file\":\"3\"}");

        DockerCli.Result sysctl = cli.docker("run", "--rm", "--sysctl", "kernel.shmmax=1048576", "--sysctl", "net.ipv4.ip_forward=1",
                "busybox", "cat", "/proc/sys/kernel/shmmax", "/proc/sys/net/ipv4/ip_forward");
        assertThat(sysctl.stdout()).as(sysctl.toString()).isEqualTo("1048576\n1\n");
        String hostSysctl = raw("POST", "/v1.50/containers/create", "{\"Image\":\"busybox\",\"HostConfig\":{\"Sysctls\":"
                + "{\"kernel.core_pattern\":\"|/tmp/x\"}}}");
        assertThat(RawHttp.status(hostSysctl)).isEqualTo(400);
        assertThat(RawHttp.body(hostSysctl)).contains("sysctl 'kernel.core_pattern' is not whitelisted");
        String hostNet = raw("POST", "/v1.50/containers/create", "{\"Image\":\"busybox\",\"HostConfig\":{\"NetworkMode\":\"host\","
                + "\"Sysctls\":{\"net.ipv4.ip_forward\":\"1\"}}}");
        assertThat(RawHttp.body(hostNet)).contains("not allowed in host network namespace");

        DockerCli.Result exposed = cli.docker("create", "--name", "exposing", "--expose", "80", "--expose", "53/udp", "busybox", "true");
        assertThat(exposed.exitCode()).as(exposed.toString()).isZero();
        assertThat(cli.ok("inspect", "-f", "{{json .Config.ExposedPorts}}", "exposing").stdout().trim())
                .isEqualTo("{\"53/udp\":{},\"80/tcp\":{}}");
        DockerCli.Result dns = cli.docker("run", "--rm", "--dns", "192.0.2.1", "--dns-search", "example.test", "--dns-option", "ndots:2",
                "--add-host", "db.test:10.9.8.7", "busybox", "cat", "/etc/resolv.conf", "/etc/hosts");
        assertThat(dns.stdout()).as(dns.toString()).contains("nameserver 192.0.2.1\nsearch example.test\noptions ndots:2\n",
                "10.9.8.7\tdb.test");
        DockerCli.Result gateway = cli.docker("run", "--rm", "--add-host", "h:host-gateway", "busybox", "true");
        assertThat(gateway.stderr()).as("no default bridge here").contains("unable to derive the IP value for host-gateway");
        DockerCli.Result badDns = cli.docker("run", "--rm", "--dns", "::1", "busybox", "true");
        assertThat(badDns.stderr()).contains("is not an IPv4 address");
        String masked = raw("POST", "/v1.50/containers/create", "{\"Image\":\"busybox\",\"HostConfig\":{\"MaskedPaths\":[]}}");
        assertThat(RawHttp.status(masked)).isEqualTo(400);
        assertThat(RawHttp.body(masked)).contains("HostConfig.MaskedPaths");
        String network = raw("POST", "/v1.50/containers/create", "{\"Image\":\"busybox\",\"NetworkingConfig\":{\"EndpointsConfig\":"
                + "{\"mynet\":{}}}}");
        assertThat(RawHttp.status(network)).isEqualTo(400);
        assertThat(RawHttp.body(network)).contains("Container cannot be connected to network endpoints: bridge mynet");
        String defaults = raw("POST", "/v1.50/containers/create", "{\"Image\":\"busybox\",\"Domainname\":\"\",\"ExposedPorts\":{},"
                + "\"HostConfig\":{\"Dns\":[],\"Links\":null,\"BlkioWeight\":0,\"MaskedPaths\":null}}");
        assertThat(RawHttp.status(defaults)).as("default values of fields not honoured are fine").isEqualTo(201);
        String swappiness = raw("POST", "/v1.50/containers/create", "{\"Image\":\"busybox\",\"HostConfig\":{\"MemorySwappiness\":101}}");
        assertThat(RawHttp.status(swappiness)).isEqualTo(400);
        assertThat(RawHttp.body(swappiness)).contains("valid memory swappiness range is 0-100");
    }

    @Test
    void hostAccessFieldsOfCreateAreHonoured() throws Exception {
        DockerCli.Result device = cli.docker("run", "--rm", "--device", "/dev/fuse:/dev/myfuse:rw", "busybox", "sh", "-c",
                "ls -l /dev/myfuse; exec 3<>/dev/myfuse && echo opened");
        assertThat(device.stdout()).as(device.toString()).contains("10,", "229", "/dev/myfuse", "opened");
        DockerCli.Result noDevice = cli.docker("run", "--rm", "busybox", "sh", "-c", "mknod /tmp/f c 10 229; exec 3<>/tmp/f && echo opened");
        assertThat(noDevice.stdout()).as("without a rule the cgroup refuses").doesNotContain("opened");
        DockerCli.Result rule = cli.docker("run", "--rm", "--device-cgroup-rule", "c 10:229 rw", "busybox", "sh", "-c",
                "mknod /tmp/f c 10 229; exec 3<>/tmp/f && echo opened");
        assertThat(rule.stdout()).as(rule.toString()).contains("opened");
        DockerCli.Result missing = cli.docker("run", "--rm", "--device", "/dev/no-such-device", "busybox", "true");
        assertThat(missing.stderr()).contains("error gathering device information while adding custom device \"/dev/no-such-device\"");

        String hostPid = cli.ok("run", "--rm", "--pid", "host", "busybox", "sh", "-c", "test -d /proc/" + ProcessHandle.current().pid()
                + " && echo sees-the-host").stdout();
        assertThat(hostPid).isEqualTo("sees-the-host\n");
        cli.ok("run", "-d", "--name", "pidbox", "busybox", "sleep", "301");
        assertThat(cli.ok("run", "--rm", "--pid", "container:pidbox", "busybox", "ps", "-o", "args").stdout()).contains("sleep 301");
        assertThat(cli.ok("run", "--rm", "--uts", "host", "busybox", "hostname").stdout().trim())
                .isEqualTo(java.net.InetAddress.getLocalHost().getHostName());
        assertThat(cli.ok("inspect", "-f", "{{.HostConfig.PidMode}}|{{.HostConfig.IpcMode}}", "pidbox").stdout().trim()).isEqualTo("|private");
        cli.ok("run", "-d", "--name", "ipcbox", "--ipc", "container:pidbox", "busybox", "sleep", "300");
        assertThat(cli.ok("inspect", "-f", "{{.HostConfig.IpcMode}}", "ipcbox").stdout().trim())
                .startsWith("container:").hasSize("container:".length() + 64);

        assertThat(cli.ok("run", "--rm", "--init", "busybox", "ps", "-o", "pid,comm").stdout()).containsPattern("\\s1 docker-init");

        DockerCli.Result quiet = cli.docker("run", "--name", "nolog", "--log-driver", "none", "busybox", "echo", "attached");
        assertThat(quiet.stdout()).isEqualTo("attached\n");
        DockerCli.Result logs = cli.docker("logs", "nolog");
        assertThat(logs.exitCode()).isNotZero();
        assertThat(logs.stderr()).contains("configured logging driver does not support reading");
        assertThat(cli.ok("inspect", "-f", "{{.HostConfig.LogConfig.Type}}|{{.LogPath}}|", "nolog").stdout().trim()).isEqualTo("none||");
    }

    @Test
    void volumesFromCopiesMountsAndCgroupParentPlacesTheContainer() throws Exception {
        java.nio.file.Path shared = java.nio.file.Files.createDirectories(tmp.resolve("shared-dir"));
        java.nio.file.Files.writeString(shared.resolve("greeting"), "hello\n");
        cli.ok("run", "-d", "--name", "holder", "-v", shared + ":/shared", "-v", "held:/data", "busybox", "sh", "-c",
                "echo kept > /data/f; sleep 300");
        Thread.sleep(300);
        assertThat(cli.ok("run", "--rm", "--volumes-from", "holder", "busybox", "sh", "-c", "cat /shared/greeting /data/f; "
                + "touch /data/g && echo writable").stdout()).isEqualTo("hello\nkept\nwritable\n");
        DockerCli.Result readOnly = cli.docker("run", "--rm", "--volumes-from", "holder:ro", "busybox", "touch", "/data/h");
        assertThat(readOnly.exitCode()).isNotZero();
        assertThat(readOnly.stderr()).contains("Read-only file system");
        cli.ok("run", "-d", "--name", "copier", "--volumes-from", "holder:ro", "busybox", "sleep", "300");
        assertThat(cli.ok("inspect", "-f", "{{.HostConfig.VolumesFrom}} {{len .Mounts}}", "copier").stdout().trim()).isEqualTo("[holder:ro] 2");
        String noSource = raw("POST", "/v1.50/containers/create", "{\"Image\":\"busybox\",\"HostConfig\":{\"VolumesFrom\":[\"no-such-container\"]}}");
        assertThat(RawHttp.status(noSource)).isEqualTo(404); // as dockerd (the CLI then tries a pull, as with dockerd)
        assertThat(RawHttp.body(noSource)).contains("No such container: no-such-container");

        String id = cli.ok("run", "-d", "--cgroup-parent", "dockgate-test-parent", "--name", "parented", "busybox", "sleep", "300")
                .stdout().trim();
        assertThat(java.nio.file.Files.isDirectory(java.nio.file.Path.of("/sys/fs/cgroup/memory/dockgate-test-parent", id))).isTrue();
        assertThat(cli.ok("stats", "--no-stream", "--format", "{{.Name}}", "parented").stdout().trim()).isEqualTo("parented");
        assertThat(cli.ok("inspect", "-f", "{{.HostConfig.CgroupParent}}", "parented").stdout().trim()).isEqualTo("dockgate-test-parent");
        cli.ok("rm", "-f", "parented");
        String escape = raw("POST", "/v1.50/containers/create", "{\"Image\":\"busybox\",\"HostConfig\":{\"CgroupParent\":\"../x\"}}");
        assertThat(RawHttp.status(escape)).isEqualTo(400);
        for (String controller : new String[] {"memory", "cpu", "cpuacct", "pids", "blkio", "freezer", "devices", "cpuset"}) {
            java.nio.file.Files.deleteIfExists(java.nio.file.Path.of("/sys/fs/cgroup", controller, "dockgate-test-parent"));
        }
    }

    @Test
    void removingTheLastTagOfAnImageInUseFollowsDockerd() throws Exception {
        cli.ok("tag", "busybox", "inuse:1");
        String image = cli.ok("image", "inspect", "-f", "{{.Id}}", "inuse:1").stdout().trim();
        cli.ok("tag", "busybox", "inuse:2");
        cli.ok("rmi", "busybox"); // another tag is left: untagged
        cli.ok("rmi", "inuse:2");
        String user = cli.ok("run", "-d", "--name", "user", "inuse:1", "sleep", "300").stdout().trim();
        DockerCli.Result refused = cli.docker("rmi", "inuse:1");
        assertThat(refused.stderr()).contains("conflict: unable to remove repository reference \"inuse:1\" (must force) - container "
                + user.substring(0, 12) + " is using its referenced image " + image.substring(7, 19));
        assertThat(cli.ok("rmi", "-f", "inuse:1").stdout()).isEqualTo("Untagged: inuse:1\n");
        assertThat(cli.ok("images", "-aq", "--no-trunc").stdout()).contains(image); // kept for its container
        cli.ok("rm", "-f", "user");
        cli.ok("tag", image, "busybox"); // as the other tests expect it
    }
}
