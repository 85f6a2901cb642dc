package io.dockgate.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.CliSession;
import io.dockgate.gateway.testing.DockerCli;
import io.dockgate.gateway.testing.RawHttp;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Containers through the real docker CLI (detached runs until attach exists): run -d, ps with filters,
 * logs, wait, inspect, stop, kill, rm, and Docker's exit codes 125/126/127 for runtime errors.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ContainersCliTest {
    @TempDir
    static Path tmp;
    private CliSession cli;
    private Path socket;

    @BeforeAll
    void start() throws Exception {
        cli = CliSession.start(tmp);
        socket = cli.socket();
        ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox");
    }

    @AfterAll
    void stop() throws Exception {
        DockerCli.Result ids = docker("ps", "-aq");
        for (String id : ids.stdout().split("\\s+")) {
            if (!id.isBlank()) {
                docker("rm", "-f", id);
            }
        }
        cli.close();
    }

    private DockerCli.Result docker(String... args) throws Exception {
        return cli.docker(args);
    }

    private DockerCli.Result ok(String... args) throws Exception {
        return cli.ok(args);
    }

    @Test
    void detachedRunPsLogsWaitInspectAndRemove() throws Exception {
        String id = ok("run", "-d", "--name", "job", "--label", "team=core", "-e", "WHO=world", "busybox",
                "sh", "-c", "echo hello $WHO; echo oops >&2; sleep 1; exit 5").stdout().trim();
        assertThat(id).matches("[0-9a-f]{64}");
        assertThat(ok("ps", "--format", "{{.Names}} {{.Status}}").stdout()).contains("job Up");
        assertThat(ok("ps", "-q", "--filter", "label=team=core").stdout().trim()).isEqualTo(id.substring(0, 12));
        assertThat(ok("wait", "job").stdout().trim()).isEqualTo("5");
        DockerCli.Result logs = ok("logs", "job");
        assertThat(logs.stdout()).isEqualTo("hello world\n");
        assertThat(logs.stderr()).isEqualTo("oops\n");
        assertThat(ok("logs", "--tail", "1", "-t", "job").stdout() + ok("logs", "--tail", "1", "-t", "job").stderr()).contains("Z ");
        assertThat(ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.Name}} {{.Config.Image}}", "job").stdout().trim())
                .isEqualTo("exited 5 /job busybox");
        assertThat(ok("ps", "-a", "--filter", "exited=5", "--format", "{{.Names}}").stdout().trim()).isEqualTo("job");
        assertThat(ok("ps", "--format", "{{.Names}}").stdout()).doesNotContain("job");
        ok("rm", "job");
        DockerCli.Result gone = docker("inspect", "job");
        assertThat(gone.exitCode()).isNotZero();
        assertThat(gone.stderr()).contains("No such object: job");
    }

    @Test
    void foregroundRunStreamsOutputAndReturnsTheExitCode() throws Exception {
        DockerCli.Result r = docker("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3");
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.stdout()).isEqualTo("out\n");
        assertThat(r.stderr()).isEqualTo("err\n");
        DockerCli.Result kept = docker("run", "--name", "kept", "busybox", "sh", "-c", "for i in 1 2 3; do echo line $i; sleep 0.1; done");
        assertThat(kept.exitCode()).isZero();
        assertThat(kept.stdout()).isEqualTo("line 1\nline 2\nline 3\n");
        assertThat(ok("ps", "-a", "--filter", "name=kept", "--format", "{{.Status}}").stdout()).startsWith("Exited (0)");
        ok("rm", "kept");
    }

    @Test
    void followLogsStopKillAndForceRemove() throws Exception {
        ok("run", "-d", "--name", "ticker", "busybox", "sh", "-c", "for i in 1 2 3; do echo tick $i; sleep 0.3; done");
        DockerCli.Result followed = ok("logs", "-f", "ticker");
        assertThat(followed.stdout()).isEqualTo("tick 1\ntick 2\ntick 3\n");

        ok("run", "-d", "--name", "sleeper", "busybox", "sleep", "300");
        long t0 = System.nanoTime();
        ok("stop", "-t", "1", "sleeper");
        assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(900);
        assertThat(ok("inspect", "-f", "{{.State.ExitCode}}", "sleeper").stdout().trim()).isEqualTo("137");

        ok("run", "-d", "--name", "trap", "busybox", "sh", "-c", "trap 'exit 9' HUP; while true; do sleep 0.1; done");
        Thread.sleep(300);
        ok("kill", "-s", "HUP", "trap");
        assertThat(ok("wait", "trap").stdout().trim()).isEqualTo("9");
        DockerCli.Result notRunning = docker("kill", "trap");
        assertThat(notRunning.exitCode()).isNotZero();
        assertThat(notRunning.stderr()).contains("is not running");

        ok("run", "-d", "--name", "busy", "busybox", "sleep", "300");
        DockerCli.Result refused = docker("rm", "busy");
        assertThat(refused.exitCode()).isNotZero();
        assertThat(refused.stderr()).contains("container is running: stop the container before removing or force remove");
        ok("rm", "-f", "busy", "sleeper", "trap", "ticker");
        assertThat(ok("ps", "-a", "--format", "{{.Names}}").stdout()).doesNotContain("busy", "sleeper", "trap", "ticker");
    }

    @Test
    void pauseUnpauseRenameAndTop() throws Exception {
        ok("run", "-d", "--name", "counter", "busybox", "sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done");
        assertThat(ok("top", "counter").stdout()).contains("PID", "sleep");
        ok("pause", "counter");
        assertThat(ok("ps", "--filter", "name=counter", "--format", "{{.Status}}").stdout()).contains("(Paused)");
        assertThat(ok("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "counter").stdout().trim()).isEqualTo("paused true");
        DockerCli.Result again = docker("pause", "counter");
        assertThat(again.exitCode()).isNotZero();
        assertThat(again.stderr()).contains("is already paused");
        ok("unpause", "counter");
        assertThat(ok("inspect", "-f", "{{.State.Status}}", "counter").stdout().trim()).isEqualTo("running");
        ok("rename", "counter", "renamed");
        assertThat(ok("ps", "--filter", "name=renamed", "--format", "{{.Names}}").stdout().trim()).isEqualTo("renamed");
        DockerCli.Result gone = docker("inspect", "counter");
        assertThat(gone.exitCode()).isNotZero();
        ok("run", "-d", "--name", "other", "busybox", "sleep", "300");
        DockerCli.Result taken = docker("rename", "renamed", "other");
        assertThat(taken.exitCode()).isNotZero();
        assertThat(taken.stderr()).contains("is already in use");
        ok("pause", "renamed");
        ok("rm", "-f", "renamed", "other");

        ok("run", "-d", "--name", "again", "busybox", "sh", "-c", "echo started; sleep 300");
        ok("restart", "-t", "1", "again");
        assertThat(ok("inspect", "-f", "{{.State.Status}}", "again").stdout().trim()).isEqualTo("running");
        assertThat(ok("logs", "again").stdout()).isEqualTo("started\nstarted\n");
        ok("rm", "-f", "again");
        ok("create", "--name", "leftover", "--label", "prune=yes", "busybox");
        ok("run", "-d", "--name", "alive", "--label", "prune=yes", "busybox", "sleep", "300");
        assertThat(ok("container", "prune", "-f", "--filter", "label=prune=yes").stdout()).contains("Deleted Containers:");
        assertThat(ok("ps", "-a", "--format", "{{.Names}}").stdout()).contains("alive").doesNotContain("leftover");
        ok("rm", "-f", "alive");
    }

    @Test
    void diffShowsTheWritableLayer() throws Exception {
        ok("run", "--name", "changer", "busybox", "sh", "-c", "echo x > /tmp/new; rm /etc/group; echo y >> /etc/passwd; mkdir -p /srv/a");
        String diff = ok("diff", "changer").stdout();
        assertThat(diff.lines()).contains("A /tmp/new", "C /tmp", "D /etc/group", "C /etc/passwd", "C /etc", "A /srv", "A /srv/a");
        Path exported = tmp.resolve("changer.tar");
        ok("export", "-o", exported.toString(), "changer");
        Process list = new ProcessBuilder("tar", "tvf", exported.toString()).redirectErrorStream(true).start();
        String listing = new String(list.getInputStream().readAllBytes());
        assertThat(listing).contains("bin/busybox", "bin/sh -> busybox", "tmp/new", "srv/a/").doesNotContain("etc/group");
        assertThat(java.nio.file.Files.readString(Path.of("/proc/self/mountinfo"))).as("the export unmounted again").doesNotContain(tmp.toString());
        ok("rm", "changer");
    }

    @Test
    void runtimeErrorsGiveDockersExitCodes() throws Exception {
        DockerCli.Result missing = docker("run", "-d", "busybox", "no-such-command");
        assertThat(missing.exitCode()).isEqualTo(127);
        assertThat(missing.stderr()).contains("executable file not found in $PATH");
        DockerCli.Result denied = docker("run", "-d", "busybox", "/etc/passwd");
        assertThat(denied.exitCode()).isEqualTo(126);
        DockerCli.Result unsupported = docker("run", "-d", "--blkio-weight", "300", "busybox", "true");
        assertThat(unsupported.exitCode()).isEqualTo(125);
        assertThat(unsupported.stderr()).contains("HostConfig.BlkioWeight is not supported");
        DockerCli.Result nameInUse = docker("create", "--name", "dup", "busybox");
        assertThat(nameInUse.exitCode()).isZero();
        DockerCli.Result again = docker("create", "--name", "dup", "busybox");
        assertThat(again.exitCode()).isNotZero();
        assertThat(again.stderr()).contains("Conflict. The container name \"/dup\" is already in use");
        String json = "{\"Image\":\"busybox\",\"image\":\"busybox:latest\",\"X\":1}";
        String body = RawHttp.unix(socket, "POST /v1.50/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + json.length() + "\r\n\r\n" + json);
        assertThat(RawHttp.status(body)).isEqualTo(400);
        assertThat(RawHttp.body(body)).contains("given twice");
        for (String id : ok("ps", "-aq").stdout().split("\\s+")) {
            if (!id.isBlank()) {
                ok("rm", "-f", id);
            }
        }
    }
}
