package io.dockgate.engine.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dockgate.engine.Engine;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.image.Reference;
import io.dockgate.engine.testing.Root;
import io.dockgate.engine.testing.TestEngines;
import io.dockgate.engine.testing.TestImages;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Containers under real conmon and runc: lifecycle, exit codes, logs, isolation, limits, errors, cleanup. */
class ContainersTest {
    @TempDir
    Path tmp;
    private Engine engine;
    private Containers containers;

    @BeforeEach
    void setUp() throws Exception {
        engine = TestEngines.withBusybox(tmp);
        containers = engine.containers();
    }

    @AfterEach
    void tearDown() throws Exception {
        TestEngines.removeAllAndClose(engine);
        assertNothingLeft();
    }

    private void assertNothingLeft() throws Exception {
        String mounts = Files.readString(Path.of("/proc/self/mountinfo"));
        assertThat(mounts).as("no overlay mounts left").doesNotContain(tmp.toString());
        Path runcRoot = tmp.resolve("exec/runc");
        if (Files.exists(runcRoot)) {
            try (var s = Files.list(runcRoot)) {
                assertThat(s).as("no runc state left").isEmpty();
            }
        }
        Process p = new ProcessBuilder("pgrep", "-f", "conmon.*" + tmp).start();
        assertThat(new String(p.getInputStream().readAllBytes()).trim()).as("no conmon left").isEmpty();
    }

    private static ContainerSpec spec(List<String> cmd, ContainerSpec.Host host) {
        return ContainerSpec.builder("busybox").cmd(cmd).env(List.of("GREETING=hi")).host(host).build();
    }

    private static ContainerSpec.Host host() {
        return host(0, 0);
    }

    private static ContainerSpec.Host host(long memory, long pids) {
        return ContainerSpec.Host.builder().memory(memory).pidsLimit(pids).build();
    }

    private ContainerRecord runToExit(ContainerSpec spec) throws Exception {
        ContainerRecord c = containers.create(null, spec);
        var exited = containers.waitFor(c.id(), "next-exit");
        containers.start(c.id());
        return exited.get(60, TimeUnit.SECONDS);
    }

    private String logOf(ContainerRecord c) throws Exception {
        StringBuilder out = new StringBuilder();
        for (String line : Files.readAllLines(Path.of(c.logPath()))) {
            String[] f = line.split(" ", 4);
            out.append(f.length == 4 ? f[3] : "").append('\n');
        }
        return out.toString();
    }

    @Test
    void runsRecordsTheExitCodeAndLogsAndCleansUp() throws Exception {
        ContainerRecord done = runToExit(spec(List.of("sh", "-c", "echo hello $GREETING; echo oops >&2; exit 3"), host()));
        assertThat(done.status().state()).isEqualTo(ContainerState.EXITED);
        assertThat(done.status().exitCode()).isEqualTo(3);
        assertThat(logOf(done)).contains("hello hi", "oops");
        assertThat(Files.readString(Path.of(done.logPath()))).contains(" stdout F hello hi", " stderr F oops");
        containers.remove(done.id(), false);
        assertThat(containers.list()).isEmpty();
    }

    @Test
    void isolationSeenFromInside() throws Exception {
        ContainerRecord c = runToExit(spec(List.of("sh", "-c", "echo pid=$$; hostname; grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status;"
                + " for f in /proc/kcore /proc/timer_list /proc/keys /proc/sched_debug; do [ -e $f ] && echo masked:$f=$(wc -c < $f); done; cat /proc/sys/kernel/hostname >/dev/null;"
                + " echo x > /proc/sys/kernel/hostname 2>/dev/null || echo ro-proc-sys; ip link 2>/dev/null | grep -c '^[0-9]' || cat /proc/net/dev | tail -n +3 | wc -l"),
                host()));
        String log = logOf(c);
        assertThat(log).contains("pid=1", c.id().substring(0, 12), "ro-proc-sys", "masked:");
        assertThat(log).doesNotContainPattern("masked:[^=]+=[1-9]");
        assertThat(log).containsPattern("CapEff:\\s+00000000a80425fb");
        assertThat(log).containsPattern("Seccomp:\\s+2");
        assertThat(c.status().exitCode()).isZero();
    }

    @Test
    void aMissingExecutableGivesDockersMessageAndLeavesNothing() throws Exception {
        ContainerRecord c = containers.create("nope", spec(List.of("no-such-binary"), host()));
        assertThatThrownBy(() -> containers.start(c.id()))
                .isInstanceOf(EngineException.class)
                .hasMessageContaining("executable file not found in $PATH")
                .satisfies(e -> assertThat(((EngineException) e).kind()).isEqualTo(ErrorKind.RUNTIME));
        assertThat(containers.inspect("nope").status().state()).isEqualTo(ContainerState.CREATED);
        assertThat(containers.inspect("nope").status().error()).contains("executable file not found");
        ContainerRecord absolute = containers.create(null, spec(List.of("/no/such/binary"), host()));
        assertThatThrownBy(() -> containers.start(absolute.id())).hasMessageContaining("no such file or directory");
        ContainerRecord denied = containers.create(null, spec(List.of("/etc/passwd"), host()));
        assertThatThrownBy(() -> containers.start(denied.id())).hasMessageContaining("permission denied");
    }

    @Test
    void stopEscalatesToSigkillAndKillDeliversSignals() throws Exception {
        ContainerRecord c = containers.create("sleeper", spec(List.of("sleep", "300"), host()));
        containers.start(c.id());
        long t0 = System.nanoTime();
        assertThat(containers.stop("sleeper", 1, null)).isTrue();
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        ContainerRecord stopped = containers.inspect("sleeper");
        assertThat(stopped.status().exitCode()).as("PID 1 ignores SIGTERM, so SIGKILL").isEqualTo(137);
        assertThat(ms).isGreaterThanOrEqualTo(900);
        assertThat(containers.stop("sleeper", 1, null)).as("already stopped: 304").isFalse();

        ContainerRecord trap = containers.create("trapper", spec(List.of("sh", "-c", "trap 'echo got HUP; exit 7' HUP; while true; do sleep 0.1; done"), host()));
        var exited = containers.waitFor(trap.id(), "next-exit");
        containers.start(trap.id());
        Thread.sleep(300);
        containers.kill("trapper", "SIGHUP");
        assertThat(exited.get(30, TimeUnit.SECONDS).status().exitCode()).isEqualTo(7);
        assertThatThrownBy(() -> containers.kill("trapper", "HUP")).hasMessageContaining("is not running");
        assertThatThrownBy(() -> containers.kill("trapper", "NOPE")).hasMessageContaining("Invalid signal: NOPE");
    }

    @Test
    void namesAreUniqueAndRemovalOfARunningContainerNeedsForce() throws Exception {
        ContainerRecord c = containers.create("web", spec(List.of("sleep", "300"), host()));
        assertThatThrownBy(() -> containers.create("web", spec(List.of("true"), host())))
                .hasMessageContaining("Conflict. The container name \"/web\" is already in use by container \"" + c.id() + "\"");
        containers.start("web");
        assertThatThrownBy(() -> containers.remove("web", false))
                .hasMessage("cannot remove container \"/web\": container is running: stop the container before removing or force remove");
        containers.remove(c.id().substring(0, 6), true);
        assertThatThrownBy(() -> containers.inspect("web")).hasMessage("No such container: web");
        assertThatThrownBy(() -> containers.create("bad name!", spec(List.of("true"), host()))).hasMessageContaining("Invalid container name");
        assertThatThrownBy(() -> containers.create(null, ContainerSpec.builder("nosuchimage").host(host()).build())).hasMessage("No such image: nosuchimage");
    }

    @Test
    void containersOutliveTheEngineAndExitsDuringTheDowntimeAreRecorded() throws Exception {
        ContainerRecord longRunning = containers.create("long", spec(List.of("sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"), host()));
        containers.start(longRunning.id());
        ContainerRecord shortLived = containers.create("short", spec(List.of("sh", "-c", "sleep 1; exit 42"), host()));
        containers.start(shortLived.id());
        engine.close(); // the daemon goes away; conmon keeps both containers
        Thread.sleep(2000);
        engine = Engine.open(tmp.resolve("data"), tmp.resolve("exec"));
        containers = engine.containers();
        ContainerRecord s = containers.inspect("short");
        assertThat(s.status().state()).isEqualTo(ContainerState.EXITED);
        assertThat(s.status().exitCode()).as("the real exit code, recorded while the daemon was down").isEqualTo(42);
        ContainerRecord l = containers.inspect("long");
        assertThat(l.status().state()).isEqualTo(ContainerState.RUNNING);
        var exited = containers.waitFor("long", "next-exit");
        containers.kill("long", "KILL");
        assertThat(exited.get(30, TimeUnit.SECONDS).status().exitCode()).isEqualTo(137);
        List<String> ticks = Files.readAllLines(Path.of(l.logPath())).stream().map(line -> line.split(" ", 4)[3]).toList();
        for (int i = 0; i < ticks.size(); i++) {
            assertThat(ticks.get(i)).as("logs continue without a gap").isEqualTo("tick " + i);
        }
        assertThat(ticks.size()).isGreaterThan(8);
    }

    @Test
    void memoryAndPidsLimitsAreEnforced() throws Exception {
        ContainerRecord oom = runToExit(spec(List.of("sh", "-c", "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done"), host(16 << 20, 0)));
        assertThat(oom.status().exitCode()).isEqualTo(137);
        assertThat(oom.status().oomKilled()).as("the OOM kill is reported").isTrue();
        // The shell dies with "can't fork" once the pids limit is reached.
        ContainerRecord pids = runToExit(spec(List.of("sh", "-c", "i=0; while [ $i -lt 20 ]; do sleep 5 & i=$((i+1)); done; echo all-started"),
                host(0, 8)));
        assertThat(logOf(pids)).contains("can't fork").doesNotContain("all-started");
        assertThat(pids.status().exitCode()).isNotZero();
        assertThatThrownBy(() -> containers.create(null, spec(List.of("true"), host(1024, 0)))).hasMessageContaining("Minimum memory limit");
    }
}
