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
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Attach (stdin, stdout, stderr, TTY, resize) through conmon's attach socket, and exec, with real conmon and runc. */
class AttachExecTest {
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
    }

    /** Collects output per stream; completes when the attachment ends. */
    static final class Collector implements Attachment.Sink {
        final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        final CompletableFuture<Void> ended = new CompletableFuture<>();

        @Override
        public synchronized void output(int stream, byte[] data, int offset, int length) {
            (stream == 1 ? stdout : stderr).write(data, offset, length);
        }

        @Override
        public void end() {
            ended.complete(null);
        }

        synchronized String out() {
            return stdout.toString(StandardCharsets.UTF_8);
        }

        synchronized String err() {
            return stderr.toString(StandardCharsets.UTF_8);
        }

        void awaitOut(String text) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!out().contains(text)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("no \"" + text + "\" in output: " + out());
                }
                Thread.sleep(20);
            }
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void stdinReachesTheProcessAndItsOutputTheClientBeforeItExits() throws Exception {
        ContainerRecord c = containers.create(null, ContainerSpec.builder("busybox")
                .cmd("sh", "-c", "while read line; do echo got:$line; echo err:$line >&2; done; echo eof; exit 4")
                .openStdin(true).stdinOnce(true).build());
        Collector out = new Collector();
        CompletableFuture<Attachment> attached = containers.attach(c.id(), new Attachment.Streams(true, true, true), out);
        assertThat(attached).as("not running yet: connected at start").isNotDone();
        var exited = containers.waitFor(c.id(), "next-exit");
        containers.start(c.id());
        Attachment a = attached.get(10, TimeUnit.SECONDS);
        a.write(bytes("one\ntwo\n"), 0, 8);
        out.awaitOut("got:two");
        a.closeStdin(); // StdinOnce: the process reads end of file
        out.ended.get(20, TimeUnit.SECONDS);
        assertThat(out.out()).isEqualTo("got:one\ngot:two\neof\n");
        assertThat(out.err()).isEqualTo("err:one\nerr:two\n");
        assertThat(exited.get(20, TimeUnit.SECONDS).status().exitCode()).isEqualTo(4);
    }

    @Test
    void ttyContainersGetATerminalThatCanBeResized() throws Exception {
        ContainerRecord c = containers.create(null, ContainerSpec.builder("busybox").cmd("sh", "-c", "stty size; exec sh").tty(true)
                .openStdin(true).stdinOnce(true).host(ContainerSpec.Host.builder().consoleSize(24, 80).build()).build());
        Collector out = new Collector();
        CompletableFuture<Attachment> attached = containers.attach(c.id(), new Attachment.Streams(true, true, true), out);
        var exited = containers.waitFor(c.id(), "next-exit");
        containers.start(c.id());
        Attachment a = attached.get(10, TimeUnit.SECONDS);
        out.awaitOut("24 80"); // the size from create, before any resize
        containers.resize(c.id(), 33, 97);
        a.write(bytes("stty size; tty; exit 5\n"), 0, 23);
        out.ended.get(20, TimeUnit.SECONDS);
        assertThat(out.out()).as("the initial size, then the resize").contains("24 80", "33 97", "/dev/pts/0");
        assertThat(out.err()).as("a terminal has one stream").isEmpty();
        assertThat(exited.get(20, TimeUnit.SECONDS).status().exitCode()).isEqualTo(5);
        assertThatThrownBy(() -> containers.resize(c.id(), 10, 10)).hasMessageContaining("is not running");
    }

    @Test
    void detachingLeavesTheContainerRunning() throws Exception {
        ContainerRecord c = containers.create(null, ContainerSpec.builder("busybox")
                .cmd("sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done").build());
        containers.start(c.id());
        Collector out = new Collector();
        Attachment a = containers.attach(c.id(), new Attachment.Streams(false, true, true), out).get(10, TimeUnit.SECONDS);
        out.awaitOut("tick");
        a.close();
        out.ended.get(10, TimeUnit.SECONDS);
        assertThat(containers.inspect(c.id()).status().state()).isEqualTo(ContainerState.RUNNING);
    }

    @Test
    void execRunsInTheContainerWithItsOwnStreamsUserAndExitCode() throws Exception {
        ContainerRecord c = containers.create("target", ContainerSpec.builder("busybox").cmd("sleep", "300")
                .env(List.of("FROM_CONTAINER=yes")).build());
        containers.start(c.id());
        Execs execs = containers.execs();

        Execs.Session s = execs.create("target", new Execs.ExecSpec(List.of("sh", "-c",
                "echo out:$FROM_CONTAINER:$EXTRA:$(id -u):$(pwd); echo err >&2; tr '\\0' ' ' < /proc/1/cmdline; echo; exit 3"),
                List.of("EXTRA=x"), "nobody", "/tmp", false, false, false, true, true, 0, 0, null));
        Collector out = new Collector();
        execs.start(s.id(), out);
        out.ended.get(20, TimeUnit.SECONDS);
        assertThat(s.exitCode()).as("recorded before the stream ends").isEqualTo(3);
        assertThat(s.running()).isFalse();
        assertThat(out.out()).startsWith("out:yes:x:65534:/tmp\n");
        assertThat(out.err()).isEqualTo("err\n");
        assertThat(out.out().lines().skip(1).findFirst().orElse("")).as("in the container's PID namespace").isEqualTo("sleep 300 ");
        assertThatThrownBy(() -> execs.start(s.id(), null)).hasMessageContaining("has already run");

        Execs.Session priv = execs.create("target", new Execs.ExecSpec(List.of("grep", "CapEff", "/proc/self/status"), null, null,
                null, false, true, false, true, true, 0, 0, null));
        Collector privOut = new Collector();
        execs.start(priv.id(), privOut);
        privOut.ended.get(20, TimeUnit.SECONDS);
        String bounding = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("CapBnd:"))
                .findFirst().orElseThrow().substring(7).trim();
        assertThat(privOut.out()).as("every capability the daemon has").containsPattern("CapEff:\\s+" + bounding);

        Execs.Session tty = execs.create("target", new Execs.ExecSpec(List.of("sh", "-c", "stty size; exec sh"), null, null, null, true, false, true, true, true, 12, 34, "ctrl-x,y"));
        Collector ttyOut = new Collector();
        Attachment a = execs.start(tty.id(), ttyOut);
        ttyOut.awaitOut("12 34");
        execs.resize(tty.id(), 21, 77);
        a.write(bytes("stty size; exit 9\n"), 0, 18);
        ttyOut.ended.get(20, TimeUnit.SECONDS);
        assertThat(ttyOut.out()).as("the size given at create, then the resize").contains("12 34", "21 77");
        assertThat(tty.exitCode()).isEqualTo(9);

        Execs.Session detached = execs.create("target", new Execs.ExecSpec(List.of("sh", "-c", "touch /tmp/detached; exit 2"),
                null, null, null, false, false, false, false, false, 0, 0, null));
        assertThat(execs.start(detached.id(), null)).isNull();
        assertThat(detached.exited().get(20, TimeUnit.SECONDS)).isEqualTo(2);

        Execs.Session missing = execs.create("target", new Execs.ExecSpec(List.of("no-such-binary"), null, null, null, false,
                false, false, true, true, 0, 0, null));
        assertThatThrownBy(() -> execs.start(missing.id(), new Collector()))
                .isInstanceOf(EngineException.class)
                .hasMessageContaining("OCI runtime exec failed: exec failed:")
                .hasMessageContaining("executable file not found in $PATH");
        assertThat(missing.exitCode()).isEqualTo(126);
        assertThatThrownBy(() -> execs.get("nope")).hasMessage("No such exec instance: nope")
                .satisfies(e -> assertThat(((EngineException) e).kind()).isEqualTo(ErrorKind.NOT_FOUND));
        try (var w = Files.walk(tmp.resolve("exec/execs"))) { assertThat(w.skip(1).toList()).as("exec directories are cleaned up").isEmpty(); }
    }

    @Test
    void execIsRefusedWhenTheContainerIsNotRunning() throws Exception {
        ContainerRecord c = containers.create(null, ContainerSpec.builder("busybox").cmd("true").build());
        assertThatThrownBy(() -> containers.execs().create(c.id(), new Execs.ExecSpec(List.of("true"), null, null, null, false, false,
                false, false, false, 0, 0, null))).hasMessageContaining("is not running")
                .satisfies(e -> assertThat(((EngineException) e).kind()).isEqualTo(ErrorKind.CONFLICT));
    }
}
