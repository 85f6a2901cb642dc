package io.dockgate.engine.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dockgate.engine.Engine;
import io.dockgate.engine.image.Reference;
import io.dockgate.engine.testing.Root;
import io.dockgate.engine.testing.TestEngines;
import io.dockgate.engine.testing.TestImages;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Restart policies and back-off, mounts and volumes, ulimits, no-new-privileges, stats and update, with real runc and conmon. */
class PoliciesAndResourcesTest {
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
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).as("no mounts left").doesNotContain(tmp.toString());
    }

    private static ContainerSpec.HostBuilder host() {
        return ContainerSpec.Host.builder();
    }

    private ContainerRecord await(String id, Predicate<ContainerRecord> condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            ContainerRecord c = containers.inspect(id);
            if (condition.test(c)) {
                return c;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not reached: " + c.status() + " restarts " + c.restartCount());
            }
            Thread.sleep(20);
        }
    }

    private static List<String> lines(ContainerRecord c) throws Exception {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(c.logPath()))) {
            out.add(line.split(" ", 4)[3]);
        }
        return out;
    }

    @Test
    void onFailureRestartsUpToItsLimitWithAGrowingDelay() throws Exception {
        ContainerRecord c = containers.create(null, ContainerSpec.builder("busybox").cmd("sh", "-c", "cut -d' ' -f1 /proc/uptime; exit 3")
                .host(host().restartPolicy(new ContainerSpec.RestartPolicy("on-failure", 3)).build()).build());
        containers.start(c.id());
        ContainerRecord done = await(c.id(), r -> r.restartCount() == 3 && r.status().state() == ContainerState.EXITED);
        Thread.sleep(1500); // no fourth run
        done = containers.inspect(c.id());
        assertThat(done.restartCount()).isEqualTo(3);
        assertThat(done.status().exitCode()).isEqualTo(3);
        List<Long> starts = lines(done).stream().map(t -> (long) (Double.parseDouble(t) * 1_000_000_000L)).toList();
        assertThat(starts).hasSize(4);
        long first = (starts.get(1) - starts.get(0)) / 1_000_000;
        long third = (starts.get(3) - starts.get(2)) / 1_000_000;
        assertThat(first).as("first delay about 100 ms").isGreaterThanOrEqualTo(90);
        assertThat(third).as("the delay doubles: 100, 200, 400 ms").isGreaterThanOrEqualTo(400).isGreaterThan(first);

        ContainerRecord ok = containers.create(null, ContainerSpec.builder("busybox").cmd("true")
                .host(host().restartPolicy(new ContainerSpec.RestartPolicy("on-failure", 0)).build()).build());
        var exited = containers.waitFor(ok.id(), "next-exit");
        containers.start(ok.id());
        exited.get(20, TimeUnit.SECONDS);
        Thread.sleep(500);
        assertThat(containers.inspect(ok.id()).restartCount()).as("exit 0 is not a failure").isZero();
    }

    @Test
    void alwaysRestartsUntilStoppedAndUnlessStoppedHeedsAKill() throws Exception {
        ContainerRecord always = containers.create("always", ContainerSpec.builder("busybox").cmd("sh", "-c", "sleep 0.2")
                .host(host().restartPolicy(new ContainerSpec.RestartPolicy("always", 0)).build()).build());
        containers.start(always.id());
        await(always.id(), r -> r.restartCount() >= 2);
        assertThat(containers.stop("always", 1, null)).isTrue();
        ContainerRecord stopped = await(always.id(), r -> r.status().state() == ContainerState.EXITED);
        int count = stopped.restartCount();
        Thread.sleep(800);
        assertThat(containers.inspect("always").status().state()).as("stop cancels the policy").isEqualTo(ContainerState.EXITED);
        assertThat(containers.inspect("always").restartCount()).isEqualTo(count);

        ContainerRecord unless = containers.create("unless", ContainerSpec.builder("busybox").cmd("sleep", "300")
                .host(host().restartPolicy(new ContainerSpec.RestartPolicy("unless-stopped", 0)).build()).build());
        containers.start(unless.id());
        containers.kill("unless", "KILL");
        await(unless.id(), r -> r.status().state() == ContainerState.EXITED);
        Thread.sleep(500);
        assertThat(containers.inspect("unless").status().state()).as("killed by its user: not restarted").isEqualTo(ContainerState.EXITED);

        ContainerRecord killedAlways = containers.create(null, ContainerSpec.builder("busybox").cmd("sleep", "300")
                .host(host().restartPolicy(new ContainerSpec.RestartPolicy("always", 0)).build()).build());
        containers.start(killedAlways.id());
        containers.kill(killedAlways.id(), "KILL");
        await(killedAlways.id(), r -> r.restartCount() == 1 && r.status().state() == ContainerState.RUNNING);

        assertThatThrownBy(() -> containers.create(null, ContainerSpec.builder("busybox").cmd("true")
                .host(host().autoRemove(true).restartPolicy(new ContainerSpec.RestartPolicy("always", 0)).build()).build()))
                .hasMessageContaining("can't create 'AutoRemove' container with restart policy");
    }

    @Test
    void restartingContainersResumeAfterTheDaemonRestarts() throws Exception {
        ContainerRecord c = containers.create("flappy", ContainerSpec.builder("busybox").cmd("sh", "-c", "sleep 1; exit 1")
                .host(host().restartPolicy(new ContainerSpec.RestartPolicy("always", 0)).build()).build());
        containers.start(c.id());
        engine.close();
        Thread.sleep(1500); // it exits while the daemon is down
        engine = Engine.open(tmp.resolve("data"), tmp.resolve("exec"));
        containers = engine.containers();
        await(c.id(), r -> r.restartCount() >= 1 && r.status().state() == ContainerState.RUNNING);
    }

    @Test
    void bindMountsVolumesUlimitsAndNoNewPrivileges() throws Exception {
        Path hostDir = Files.createDirectories(tmp.resolve("shared"));
        Files.writeString(hostDir.resolve("in.txt"), "from host\n");
        ContainerSpec.Host h = host()
                .mounts(List.of(new ContainerSpec.Mount(ContainerSpec.Mount.BIND, hostDir.toString(), "/host", false),
                        new ContainerSpec.Mount(ContainerSpec.Mount.BIND, hostDir.toString(), "/host-ro", true),
                        new ContainerSpec.Mount(ContainerSpec.Mount.VOLUME, "named", "/data", false),
                        new ContainerSpec.Mount(ContainerSpec.Mount.VOLUME, "", "/etc-copy/..//etc", false)))
                .ulimits(List.of(new ContainerSpec.Ulimit("nofile", 1000, 2000)))
                .noNewPrivileges(true).build();
        ContainerRecord c = containers.create(null, ContainerSpec.builder("busybox").cmd("sh", "-c",
                "cat /host/in.txt; echo out > /host/out.txt; echo no > /host-ro/x 2>/dev/null || echo ro-refused; "
                        + "echo kept > /data/f; ls /etc; ulimit -n; ulimit -Hn; grep NoNewPrivs /proc/self/status").host(h).build());
        var exited = containers.waitFor(c.id(), "next-exit");
        containers.start(c.id());
        exited.get(30, TimeUnit.SECONDS);
        String log = String.join("\n", lines(containers.inspect(c.id())));
        assertThat(log).contains("from host", "ro-refused", "passwd", "1000\n2000", "NoNewPrivs:\t1");
        assertThat(Files.readString(hostDir.resolve("out.txt"))).isEqualTo("out\n");
        var named = engine.volumes().get("named");
        assertThat(Files.readString(Path.of(named.mountpoint(), "f"))).isEqualTo("kept\n");
        String anonymous = containers.inspect(c.id()).spec().host().mounts().get(3).source();
        assertThat(Path.of(engine.volumes().get(anonymous).mountpoint(), "passwd")).as("copy-up of the image's /etc").exists();
        assertThatThrownBy(() -> engine.volumes().remove("named", false)).hasMessageContaining("volume is in use");
        containers.remove(c.id(), false, true);
        assertThat(engine.volumes().find(anonymous)).as("rm -v removes anonymous volumes").isNull();
        assertThat(engine.volumes().find("named")).as("named volumes stay").isNotNull();
        engine.volumes().remove("named", false);

        assertThatThrownBy(() -> containers.create(null, ContainerSpec.builder("busybox").cmd("true").host(host()
                .mounts(List.of(new ContainerSpec.Mount(ContainerSpec.Mount.BIND, "/no/such/dir", "/x", false))).build()).build()))
                .hasMessageContaining("bind source path does not exist: /no/such/dir");
        assertThatThrownBy(() -> containers.create(null, ContainerSpec.builder("busybox").cmd("true").host(host()
                .mounts(List.of(new ContainerSpec.Mount(ContainerSpec.Mount.BIND, hostDir.toString(), "/", false))).build()).build()))
                .hasMessageContaining("mount path must be absolute and not /");
        assertThatThrownBy(() -> engine.volumes().create("v1", "local", Map.of(), Map.of("device", "/dev/sda1")))
                .hasMessageContaining("volume driver options are not supported");
        assertThat(containers.list()).isEmpty();
    }

    @Test
    void statsAndUpdateReadAndChangeTheCgroup() throws Exception {
        ContainerRecord c = containers.create(null, ContainerSpec.builder("busybox")
                .cmd("sh", "-c", "x=$(head -c 3000000 /dev/zero | tr '\\0' a); sleep 300")
                .host(host().memory(64L << 20).pidsLimit(50).build()).build());
        containers.start(c.id());
        Thread.sleep(800);
        CgroupStats.Sample s = containers.stats(c.id());
        assertThat(s.memoryLimit()).isEqualTo(64L << 20);
        assertThat(s.memoryUsage()).isGreaterThan(64L << 10);
        assertThat(s.pidsCurrent()).isBetween(1L, 5L);
        assertThat(s.pidsLimit()).isEqualTo(50);
        assertThat(s.cpuTotal()).isPositive();
        assertThat(s.systemCpu()).isPositive();

        containers.update(c.id(), host().memory(96L << 20).memorySwap(192L << 20).pidsLimit(80).cpuShares(512)
                .restartPolicy(new ContainerSpec.RestartPolicy("unless-stopped", 0)).build());
        CgroupStats.Sample after = containers.stats(c.id());
        assertThat(after.memoryLimit()).isEqualTo(96L << 20);
        assertThat(after.pidsLimit()).isEqualTo(80);
        ContainerRecord updated = containers.inspect(c.id());
        assertThat(updated.spec().host().memory()).isEqualTo(96L << 20);
        assertThat(updated.spec().host().restartPolicy().name()).isEqualTo("unless-stopped");
        assertThatThrownBy(() -> containers.update(c.id(), host().memory(1024).build())).hasMessageContaining("Minimum memory limit");
        assertThat(Instant.parse(updated.status().startedAt())).isBefore(Instant.now().minus(Duration.ofMillis(500)));
    }

    @Test
    void logsRotateBySizeKeepingMaxFileFilesAndLosingNoLine() throws Exception {
        ContainerRecord c = containers.create(null, ContainerSpec.builder("busybox")
                .cmd("sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); "
                        + "[ $((i % 100)) -eq 0 ] && sleep 0.1; done")
                .host(host().log(new ContainerSpec.LogConfig(40_000, 3)).build()).build());
        var exited = containers.waitFor(c.id(), "next-exit");
        containers.start(c.id());
        exited.get(60, TimeUnit.SECONDS);
        Path log = Path.of(c.logPath());
        assertThat(LogRotation.rotated(log, 1)).exists();
        assertThat(LogRotation.rotated(log, 2)).exists();
        assertThat(LogRotation.rotated(log, 3)).as("max-file 3: the log and two rotated files").doesNotExist();
        List<String> kept = LogReader.readAll(log, true).stream().map(e -> e.text().strip()).toList();
        int first = Integer.parseInt(kept.get(0).split("-")[1]);
        assertThat(first).as("the oldest lines were rotated away").isPositive();
        for (int i = 0; i < kept.size(); i++) {
            assertThat(kept.get(i)).as("no gap after a rotation").startsWith("line-" + (first + i) + "-");
        }
        assertThat(kept.get(kept.size() - 1)).startsWith("line-2999-");

        ContainerRecord single = containers.create(null, ContainerSpec.builder("busybox")
                .cmd("sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done")
                .host(host().log(new ContainerSpec.LogConfig(20_000, 1)).build()).build());
        var singleExit = containers.waitFor(single.id(), "next-exit");
        containers.start(single.id());
        singleExit.get(60, TimeUnit.SECONDS);
        assertThat(Files.size(Path.of(single.logPath()))).as("max-size with one file: conmon truncates").isLessThanOrEqualTo(20_000);
    }
}
