package io.dockgate.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.Main;
import io.dockgate.gateway.testing.DockerCli;
import io.dockgate.gateway.testing.Prerequisites;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon process is killed with SIGKILL while 20 containers run and write logs: the containers go on
 * under their conmon; after a restart all are still running, their logs have no gap, and a container
 * that exited during the downtime is reported with its real exit code.
 */
class DaemonCrashTest {
    private static final int CONTAINERS = 20;

    @TempDir
    Path tmp;
    private Process daemon;

    private List<String> networking = List.of("--bridge", "none", "--iptables", "false");

    private Process start(Path log) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "daemon",
                "-H", "unix://" + tmp.resolve("dg.sock"), "--data-root", tmp.resolve("data").toString(),
                "--exec-root", tmp.resolve("exec").toString(), "--pidfile", tmp.resolve("dockgate.pid").toString(),
                "--config-file", emptyConfig().toString()));
        command.addAll(networking);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(log).contains("running, listening on") || countOf(Files.readString(log), "running, listening on") < starts) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("the daemon did not start:\n" + Files.readString(log));
            }
            Thread.sleep(50);
        }
        return p;
    }

    private int starts;

    private static int countOf(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    private Path emptyConfig() throws IOException {
        Path config = tmp.resolve("daemon.json");
        if (!Files.exists(config)) {
            Files.writeString(config, "{}");
        }
        return config;
    }

    private DockerCli.Result docker(String... args) throws Exception {
        return DockerCli.run(tmp.resolve("docker-config"), Map.of("DOCKER_HOST", "unix://" + tmp.resolve("dg.sock")), args);
    }

    private DockerCli.Result ok(String... args) throws Exception {
        DockerCli.Result r = docker(args);
        assertThat(r.exitCode()).as("docker " + String.join(" ", args) + "\n" + r).isZero();
        return r;
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (daemon != null && daemon.isAlive()) {
            for (String id : docker("ps", "-aq").stdout().split("\\s+")) {
                if (!id.isBlank()) {
                    docker("rm", "-f", id);
                }
            }
            daemon.destroy();
            daemon.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void containersSurviveSigkillOfTheDaemon() throws Exception {
        Prerequisites.requireRoot();
        Path log = tmp.resolve("daemon.log");
        starts = 1;
        daemon = start(log);
        ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox");
        for (int i = 0; i < CONTAINERS; i++) {
            ok("run", "-d", "--name", "w" + i, "busybox", "sh", "-c",
                    "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.05; done");
        }
        ok("run", "-d", "--name", "short", "busybox", "sh", "-c", "sleep 2; exit 42");
        ok("run", "-d", "--name", "checked", "--health-cmd", "test -f /tmp/flag", "--health-interval", "300ms", "--health-retries", "1",
                "busybox", "sleep", "300");
        Thread.sleep(500);

        ProcessHandle.of(daemon.pid()).orElseThrow().destroyForcibly(); // SIGKILL
        assertThat(daemon.waitFor(30, TimeUnit.SECONDS)).isTrue();
        Thread.sleep(3000); // "short" exits meanwhile; the others keep writing

        starts = 2;
        daemon = start(log);
        for (int i = 0; i < CONTAINERS; i++) {
            assertThat(ok("inspect", "-f", "{{.State.Status}}", "w" + i).stdout().trim()).as("w" + i).isEqualTo("running");
        }
        assertThat(ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "short").stdout().trim())
                .as("the exit during the downtime, with its real code").isEqualTo("exited 42");
        assertThat(Files.readString(log)).contains("exited with 42 while the daemon was down");
        // health checks of a re-adopted container run again: its state changes with what the probes find
        ok("exec", "checked", "touch", "/tmp/flag");
        String health = "";
        for (int i = 0; i < 50 && !health.equals("healthy"); i++) {
            Thread.sleep(200);
            health = ok("inspect", "-f", "{{.State.Health.Status}}", "checked").stdout().trim();
        }
        assertThat(health).as("probes resumed after the restart").isEqualTo("healthy");

        for (int i = 0; i < CONTAINERS; i++) {
            String[] lines = ok("logs", "w" + i).stdout().split("\n");
            assertThat(lines.length).as("w" + i + " wrote during the downtime").isGreaterThan(50);
            for (int n = 0; n < lines.length; n++) {
                assertThat(lines[n]).as("w" + i + ": logs without a gap").isEqualTo("line " + n);
            }
        }
        ok("rm", "-f", "w0");
        assertThat(docker("inspect", "w0").exitCode()).isNotZero();
    }

    /** The host's networking state the daemon is responsible for: its rules (without counters), links, namespaces. */
    private String networkingState() throws Exception {
        String rules = io.dockgate.gateway.testing.TestNetworking.output(List.of("iptables-save")).lines()
                .filter(l -> !l.startsWith("#")).map(l -> l.replaceAll("\\[\\d+:\\d+\\]", "")).sorted()
                .collect(java.util.stream.Collectors.joining("\n"));
        String links = io.dockgate.gateway.testing.TestNetworking.output(List.of("ip", "-o", "link", "show")).lines()
                .map(l -> l.split(":\\s+")[1].replaceAll("@.*", "")).sorted().collect(java.util.stream.Collectors.joining(" "));
        String netns;
        try (var files = Files.list(tmp.resolve("exec/netns"))) {
            netns = files.map(p -> p.getFileName().toString()).sorted().collect(java.util.stream.Collectors.joining(" "));
        }
        return rules + "\n--\n" + links + "\n--\n" + netns;
    }

    private static String get(int port) {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 2000);
            s.setSoTimeout(2000);
            s.getOutputStream().write("GET /passwd HTTP/1.0\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "failed: " + e;
        }
    }

    @Test
    void aBuildKilledWithTheDaemonLeavesNothingAtTheNextStart() throws Exception {
        Prerequisites.requireRoot();
        Path log = tmp.resolve("daemon.log");
        starts = 1;
        daemon = start(log);
        ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox");
        Path ctx = Files.createDirectories(tmp.resolve("ctx"));
        Files.writeString(ctx.resolve("data.txt"), "data\n");
        Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox\nCOPY data.txt /copied\nRUN sleep 60\n");
        Process build = DockerCli.start(tmp.resolve("docker-config"), Map.of("DOCKER_HOST", "unix://" + tmp.resolve("dg.sock"),
                "DOCKER_BUILDKIT", "0"), "build", ctx.toString());
        String running = "";
        for (int i = 0; i < 100 && running.isEmpty(); i++) {
            Thread.sleep(100);
            running = ok("ps", "-q").stdout().trim();
        }
        assertThat(running).as("the RUN step runs").isNotEmpty();
        ProcessHandle.of(daemon.pid()).orElseThrow().destroyForcibly(); // SIGKILL mid-build
        assertThat(daemon.waitFor(30, TimeUnit.SECONDS)).isTrue();
        build.destroyForcibly();
        starts = 2;
        daemon = start(log);
        assertThat(ok("ps", "-aq").stdout().trim()).as("the RUN step's container is gone").isEmpty();
        try (var snapshots = Files.list(tmp.resolve("data/snapshots"))) {
            assertThat(snapshots.toList()).as("no snapshot of the build stays").isEmpty();
        }
        try (var contexts = Files.list(tmp.resolve("data/build/contexts"))) {
            assertThat(contexts.toList()).as("no context stays").isEmpty();
        }
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(tmp.resolve("data").toString());
        // a build works again, the step finished before the crash from the cache
        Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox\nCOPY data.txt /copied\nRUN cat /copied\n");
        DockerCli.Result again = DockerCli.run(tmp.resolve("docker-config"), Map.of("DOCKER_HOST", "unix://" + tmp.resolve("dg.sock"),
                "DOCKER_BUILDKIT", "0"), "build", ctx.toString());
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(again.stdout()).contains("Using cache", "data");
    }

    @Test
    void publishedPortsAnswerThroughSigkillAndNothingIsDoubledAfter() throws Exception {
        Prerequisites.requireRoot();
        networking = List.of("--bridge", "dgcrash0", "--bip", "172.31.216.1/24");
        List<String> bridges = new ArrayList<>(List.of("dgcrash0"));
        Path log = tmp.resolve("daemon.log");
        starts = 1;
        daemon = start(log);
        try {
            ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox");
            String net = ok("network", "create", "crashnet").stdout().trim();
            bridges.add("br-" + net.substring(0, 12));
            int port;
            try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
                port = s.getLocalPort();
            }
            ok("run", "-d", "--name", "web", "--network", "crashnet", "-p", "127.0.0.1:" + port + ":80", "busybox", "httpd", "-f",
                    "-p", "80", "-h", "/etc");
            ok("run", "-d", "--name", "asker", "--network", "crashnet", "busybox", "sleep", "300");
            ok("run", "-d", "--name", "plain", "-p", "80", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc");
            assertThat(get(port)).contains("root:x:0:0");
            String before = networkingState();

            ProcessHandle.of(daemon.pid()).orElseThrow().destroyForcibly(); // SIGKILL
            assertThat(daemon.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(get(port)).as("the kernel forwards the port while the daemon is down").contains("root:x:0:0");

            starts = 2;
            daemon = start(log);
            assertThat(get(port)).contains("root:x:0:0");
            assertThat(networkingState()).as("rules, links and namespaces as before the crash").isEqualTo(before);
            assertThat(ok("exec", "asker", "nslookup", "web", "127.0.0.11").stdout()).as("names answered again")
                    .contains("Address: " + ok("inspect", "-f", "{{.NetworkSettings.Networks.crashnet.IPAddress}}", "web").stdout().trim());
            ok("rm", "-f", "web", "asker", "plain");
            ok("network", "rm", "crashnet");
            assertThat(get(port)).as("unpublished").doesNotContain("root:x");
        } finally {
            cleanUp();
            io.dockgate.gateway.testing.TestNetworking.cleanup(bridges);
        }
    }
}
