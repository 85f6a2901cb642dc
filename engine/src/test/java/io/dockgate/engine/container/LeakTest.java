package io.dockgate.engine.container;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.engine.Engine;
import io.dockgate.engine.image.Reference;
import io.dockgate.engine.testing.Root;
import io.dockgate.engine.testing.TestImages;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 200 create, start, exit (or kill, or exec), remove cycles leave nothing behind: no mounts, no cgroups,
 * no conmon processes, no runc state, no bundle or exec directories, no file descriptors.
 */
class LeakTest {
    private static final int CYCLES = 200;

    @TempDir
    Path tmp;

    @Test
    void twoHundredCyclesLeaveNothingBehind() throws Exception {
        Root.require();
        long fdsBefore;
        List<Path> groupsBefore;
        try (Engine engine = Engine.open(tmp.resolve("data"), tmp.resolve("exec"))) {
            try (InputStream in = Files.newInputStream(TestImages.busyboxTar(tmp))) {
                engine.images().importRootfs(in, Optional.of(Reference.parse("busybox")), "", List.of("CMD [\"sh\"]"), "amd64");
            }
            Containers containers = engine.containers();
            fdsBefore = openFds();
            groupsBefore = cgroups();
            for (int i = 0; i < CYCLES; i++) {
                switch (i % 4) {
                    case 0 -> {
                        ContainerRecord c = containers.create(null, ContainerSpec.builder("busybox").cmd("true").build());
                        var exited = containers.waitFor(c.id(), "next-exit");
                        containers.start(c.id());
                        exited.get(30, TimeUnit.SECONDS);
                        containers.remove(c.id(), false);
                    }
                    case 1 -> {
                        ContainerRecord c = containers.create(null, ContainerSpec.builder("busybox").cmd("sleep", "60").build());
                        containers.start(c.id());
                        containers.remove(c.id(), true);
                    }
                    case 2 -> {
                        ContainerRecord c = containers.create(null, ContainerSpec.builder("busybox").cmd("sleep", "60")
                                .host(ContainerSpec.Host.builder().memory(32L << 20).pidsLimit(20).build()).build());
                        containers.start(c.id());
                        Execs.Session s = containers.execs().create(c.id(), new Execs.ExecSpec(List.of("true"), null, null, null,
                                false, false, false, false, false, 0, 0, null));
                        containers.execs().start(s.id(), null);
                        s.exited().get(30, TimeUnit.SECONDS);
                        containers.stop(c.id(), 0, null);
                        containers.remove(c.id(), false);
                    }
                    default -> {
                        ContainerRecord c = containers.create(null, ContainerSpec.builder("busybox").cmd("sh", "-c", "exit 3")
                                .host(ContainerSpec.Host.builder().autoRemove(true).build()).build());
                        var removed = containers.waitFor(c.id(), "removed");
                        containers.start(c.id());
                        removed.get(30, TimeUnit.SECONDS);
                    }
                }
            }
            assertThat(containers.list()).isEmpty();
            assertThat(openFds()).as("no descriptors leaked by the daemon side").isLessThanOrEqualTo(fdsBefore + 5);
        }
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).as("no mounts").doesNotContain(tmp.toString());
        List<Path> left = new java.util.ArrayList<>(cgroups());
        left.removeAll(groupsBefore);
        assertThat(left).as("no cgroups left").isEmpty();
        assertThat(list(tmp.resolve("exec/runc"))).as("no runc state").isEmpty();
        assertThat(list(tmp.resolve("exec/containers"))).as("no bundles").isEmpty();
        assertThat(list(tmp.resolve("exec/execs"))).as("no exec directories").isEmpty();
        assertThat(list(tmp.resolve("exec/exits"))).as("no exit files").isEmpty();
        assertThat(list(tmp.resolve("data/containers"))).as("no container directories").isEmpty();
        Process p = new ProcessBuilder("pgrep", "-f", "conmon.*" + tmp).start();
        assertThat(new String(p.getInputStream().readAllBytes()).trim()).as("no conmon left").isEmpty();
    }

    /** Container cgroups under every controller's dockgate parent. */
    private static List<Path> cgroups() throws Exception {
        List<Path> all = new java.util.ArrayList<>();
        for (String controller : List.of("memory", "pids", "cpu", "cpuacct", "blkio", "devices", "freezer", "cpuset")) {
            Path parent = Path.of("/sys/fs/cgroup", controller, "dockgate");
            if (Files.isDirectory(parent)) {
                try (Stream<Path> groups = Files.list(parent)) {
                    groups.filter(Files::isDirectory).forEach(all::add);
                }
            }
        }
        return all;
    }

    private static List<Path> list(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    private static long openFds() throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }
}
