package io.dockgate.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.CliSession;
import io.dockgate.gateway.testing.DockerCli;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The docker CLI's interactive paths end to end, over the Unix socket and over mutual TLS: stdin piped
 * into run and exec, terminals (a real pseudo-terminal through util-linux script), resize, detach keys,
 * attach, exec exit codes, stats, update, volumes, bind mounts and restart policies.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InteractiveCliTest {
    @TempDir
    static Path tmp;
    private CliSession unix;
    private CliSession tls;

    @BeforeAll
    void start() throws Exception {
        unix = CliSession.startWithTls(tmp);
        tls = unix.overTls();
        unix.ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox");
    }

    @AfterEach
    void clean() throws Exception {
        unix.removeAllContainers();
    }

    @AfterAll
    void stop() throws Exception {
        if (unix != null) {
            unix.close();
        }
    }

    private CliSession over(String transport) {
        return transport.equals("tls") ? tls : unix;
    }

    private static String md5(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
    }

    @ParameterizedTest
    @ValueSource(strings = {"unix", "tls"})
    void stdinIsPipedIntoRunAndExecAndBinaryDataSurvives(String transport) throws Exception {
        CliSession cli = over(transport);
        DockerCli.Result run = cli.dockerWithInput("one\ntwo\n".getBytes(StandardCharsets.UTF_8),
                "run", "-i", "--rm", "busybox", "sh", "-c", "cat; echo done >&2; exit 3");
        assertThat(run.exitCode()).isEqualTo(3);
        assertThat(run.stdout()).isEqualTo("one\ntwo\n");
        assertThat(run.stderr()).isEqualTo("done\n");

        cli.ok("run", "-d", "--name", "box-" + transport, "-e", "FROM=container", "busybox", "sleep", "300");
        byte[] data = new byte[6 << 20];
        new Random(7).nextBytes(data); // holds ctrl-p ctrl-q somewhere: without a TTY there are no detach keys
        DockerCli.Result sum = cli.dockerWithInput(data, "exec", "-i", "box-" + transport, "md5sum");
        assertThat(sum.stdout()).startsWith(md5(data));
        DockerCli.Result out = cli.docker("exec", "box-" + transport, "sh", "-c", "head -c 3000000 /dev/zero");
        assertThat(out.stdout().length()).isEqualTo(3_000_000);

        DockerCli.Result env = cli.docker("exec", "-u", "nobody", "-w", "/tmp", "-e", "EXTRA=1", "box-" + transport,
                "sh", "-c", "echo $(id -u) $(pwd) $FROM $EXTRA; exit 4");
        assertThat(env.exitCode()).isEqualTo(4);
        assertThat(env.stdout()).isEqualTo("65534 /tmp container 1\n");
        DockerCli.Result missing = cli.docker("exec", "box-" + transport, "no-such-command");
        assertThat(missing.exitCode()).isEqualTo(126);
        assertThat(missing.stdout() + missing.stderr()).contains("OCI runtime exec failed", "executable file not found in $PATH");
        cli.ok("exec", "-d", "box-" + transport, "touch", "/tmp/detached");
        Thread.sleep(300);
        cli.ok("exec", "box-" + transport, "test", "-f", "/tmp/detached");
    }

    @ParameterizedTest
    @ValueSource(strings = {"unix", "tls"})
    void terminalsHaveTheClientsSizeAndExitCodes(String transport) throws Exception {
        CliSession cli = over(transport);
        DockerCli.Result run = cli.dockerInTerminal(List.of("stty size; tty\r", "exit 7\r"), "run", "-it", "--rm", "busybox", "sh");
        assertThat(run.stdout()).contains("30 100", "/dev/pts/0");
        assertThat(run.exitCode()).isEqualTo(7);

        cli.ok("run", "-d", "--name", "term-" + transport, "busybox", "sleep", "300");
        DockerCli.Result exec = cli.dockerInTerminal(List.of("stty size\r", "exit 6\r"), "exec", "-it", "term-" + transport, "sh");
        assertThat(exec.stdout()).contains("30 100");
        assertThat(exec.exitCode()).isEqualTo(6);
    }

    @Test
    void detachKeysLeaveTheContainerRunningAndAttachFollowsOutput() throws Exception {
        io.dockgate.gateway.testing.AuditTail access = unix.daemon().audit();
        DockerCli.Result detached = unix.dockerInTerminal(List.of("echo before\r", "\u0010\u0011"),
                "run", "-it", "--name", "detachable", "busybox", "sh");
        assertThat(detached.exitCode()).as("the CLI reads the escape sequence and detaches").isZero();
        assertThat(detached.stdout()).contains("before");
        assertThat(unix.ok("inspect", "-f", "{{.State.Status}}", "detachable").stdout().trim()).isEqualTo("running");

        unix.ok("run", "-d", "--name", "ticker", "busybox", "sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done");
        CompletableFuture<DockerCli.Result> attached = CompletableFuture.supplyAsync(() -> {
            try {
                return unix.docker("attach", "--no-stdin", "ticker");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(1500);
        unix.ok("kill", "ticker");
        DockerCli.Result r = attached.get(30, TimeUnit.SECONDS);
        assertThat(r.stdout()).contains("tick");
        assertThat(r.exitCode()).as("attach returns the container's exit code").isEqualTo(137);
        String attach = access.await("\"operation\":\"container.attach\"");
        assertThat(access.outcome(attach)).as("hijacked requests are audited when upgraded").contains("\"status\":101");
    }

    @Test
    void statsUpdateVolumesBindMountsAndRestartPolicies() throws Exception {
        unix.ok("run", "-d", "--name", "svc", "--memory", "64m", "busybox", "sleep", "300");
        String stats = unix.ok("stats", "--no-stream", "--format", "{{.Name}}|{{.MemUsage}}|{{.PIDs}}", "svc").stdout().trim();
        assertThat(stats).startsWith("svc|").contains("/ 64MiB").endsWith("|1");
        unix.ok("update", "--memory", "96m", "--memory-swap", "192m", "--restart", "unless-stopped", "svc");
        assertThat(unix.ok("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}", "svc").stdout().trim())
                .isEqualTo("100663296 unless-stopped");
        assertThat(unix.ok("stats", "--no-stream", "--format", "{{.MemUsage}}", "svc").stdout()).contains("/ 96MiB");

        unix.ok("volume", "create", "--label", "team=core", "data");
        assertThat(unix.ok("volume", "ls", "--filter", "label=team=core", "--format", "{{.Name}}").stdout().trim()).isEqualTo("data");
        unix.ok("run", "--name", "writer", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f");
        DockerCli.Result read = unix.docker("run", "--rm", "--mount", "type=volume,source=data,target=/in,readonly", "busybox",
                "sh", "-c", "cat /in/f; touch /in/g || echo ro");
        assertThat(read.stdout()).isEqualTo("kept\nro\n");
        DockerCli.Result inUse = unix.docker("volume", "rm", "data");
        assertThat(inUse.exitCode()).isNotZero();
        assertThat(inUse.stderr()).contains("volume is in use");
        unix.ok("rm", "writer");
        unix.ok("volume", "rm", "data");

        Path shared = Files.createDirectories(tmp.resolve("shared"));
        Files.writeString(shared.resolve("hello"), "from the host\n");
        DockerCli.Result bind = unix.docker("run", "--rm", "-v", shared + ":/host:ro", "busybox", "sh", "-c",
                "cat /host/hello; echo x > /host/new || echo refused");
        assertThat(bind.stdout()).isEqualTo("from the host\nrefused\n");
        DockerCli.Result missingSource = unix.docker("run", "--rm", "-v", "/no/such/dir:/x", "busybox", "true");
        assertThat(missingSource.exitCode()).isEqualTo(125);
        assertThat(missingSource.stderr()).contains("bind source path does not exist: /no/such/dir");

        unix.ok("run", "-d", "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 1");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String state;
        do {
            Thread.sleep(200);
            state = unix.ok("inspect", "-f", "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}", "flaky").stdout().trim();
        } while (!state.equals("exited 2 1") && System.nanoTime() < deadline);
        assertThat(state).isEqualTo("exited 2 1");
        DockerCli.Result conflict = unix.docker("run", "--rm", "--restart", "always", "busybox", "true");
        assertThat(conflict.exitCode()).isEqualTo(125);
    }

    @ParameterizedTest
    @ValueSource(strings = {"unix", "tls"})
    void copyBothWaysEventsAndDiskUsage(String transport) throws Exception {
        CliSession cli = over(transport);
        String since = Long.toString(System.currentTimeMillis() / 1000 - 1);
        String name = "cp-" + transport;
        cli.ok("run", "-d", "--name", name, "-v", "cpvol-" + transport + ":/data", "busybox", "sh", "-c",
                "mkdir -p /srv/site && echo index > /srv/site/index.html && ln -s index.html /srv/site/link && sleep 300");
        Thread.sleep(500);
        Path out = Files.createDirectories(tmp.resolve("out-" + transport));
        cli.ok("cp", name + ":/srv/site", out.toString());
        assertThat(Files.readString(out.resolve("site/index.html"))).isEqualTo("index\n");
        assertThat(Files.isSymbolicLink(out.resolve("site/link"))).isTrue();
        Path in = Files.createDirectories(tmp.resolve("in-" + transport));
        Files.writeString(in.resolve("note.txt"), "from the host\n");
        cli.ok("cp", in.resolve("note.txt").toString(), name + ":/data/note.txt");
        cli.ok("cp", in.toString(), name + ":/tmp/indir");
        assertThat(cli.ok("exec", name, "sh", "-c", "cat /data/note.txt /tmp/indir/note.txt; stat -c %u /data/note.txt").stdout())
                .isEqualTo("from the host\nfrom the host\n0\n");
        DockerCli.Result missing = cli.docker("cp", name + ":/no/such/file", out.toString());
        assertThat(missing.exitCode()).isNotZero();
        assertThat(missing.stderr()).contains("Could not find the file /no/such/file");

        cli.ok("pause", name);
        cli.ok("unpause", name);
        cli.ok("rm", "-f", name);
        String until = Long.toString(System.currentTimeMillis() / 1000 + 1);
        String events = cli.ok("events", "--since", since, "--until", until, "--filter", "container=" + name,
                "--format", "{{.Type}} {{.Action}}").stdout();
        assertThat(events.lines().toList()).containsSubsequence("container create", "container start", "container extract-to-dir",
                "container pause", "container unpause", "container kill", "container die", "container destroy");
        String volumeEvents = cli.ok("events", "--since", since, "--until", until, "--filter", "type=volume",
                "--format", "{{.Action}} {{.Actor.ID}}").stdout();
        assertThat(volumeEvents).contains("create cpvol-" + transport, "mount cpvol-" + transport);

        cli.ok("run", "-d", "--name", "df-" + transport, "busybox", "sleep", "300");
        String df = cli.ok("system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}").stdout();
        assertThat(df).contains("Images 1 1", "Containers 1 1", "Local Volumes");
        cli.ok("rm", "-f", "df-" + transport);
        cli.ok("volume", "rm", "cpvol-" + transport);
    }

    @Test
    void eventsStreamWhileALifecycleRuns() throws Exception {
        CompletableFuture<DockerCli.Result> stream = CompletableFuture.supplyAsync(() -> {
            try {
                String until = Long.toString(System.currentTimeMillis() / 1000 + 6);
                return tls.docker("events", "--until", until, "--filter", "type=container", "--format", "{{.Action}} {{.Actor.Attributes.name}}");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(1500);
        unix.ok("run", "--rm", "--name", "live", "busybox", "sh", "-c", "exit 3".replace("3", "0"));
        DockerCli.Result r = stream.get(30, TimeUnit.SECONDS);
        assertThat(r.stdout().lines().toList()).containsSubsequence("create live", "attach live", "start live", "die live", "destroy live");
    }

    @Test
    void withoutABridgeTheBuiltInNetworksAreListedAndUserNetworksStillMade() throws Exception {
        unix.ok("run", "-d", "--name", "on-none", "busybox", "sleep", "300");
        assertThat(unix.ok("network", "ls", "--format", "{{.Name}} {{.Driver}}").stdout().lines().sorted().toList())
                .containsExactly("host host", "none null");
        assertThat(unix.ok("network", "inspect", "none", "--format", "{{range .Containers}}{{.Name}}{{end}}").stdout().trim())
                .isEqualTo("on-none");
        unix.ok("network", "create", "mine");
        assertThat(unix.ok("network", "ls", "--format", "{{.Name}} {{.Driver}}").stdout()).contains("mine bridge");
        unix.ok("network", "rm", "mine"); // its bridge goes with it
        DockerCli.Result remove = unix.docker("network", "rm", "host");
        assertThat(remove.stderr()).contains("host is a pre-defined network and cannot be removed");
        assertThat(unix.docker("network", "inspect", "bridge").exitCode()).isNotZero();
    }
}
