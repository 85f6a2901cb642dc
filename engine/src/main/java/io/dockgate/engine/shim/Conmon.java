package io.dockgate.engine.shim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.runtime.Runc;
import io.dockgate.engine.sys.Syscalls;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Launches one conmon per container process, as Podman drives it: conmon daemonises, becomes the
 * process's parent (subreaper), holds its stdio, writes the k8s-file log, serves the attach socket and
 * the control FIFO in its directory, runs {@code runc create} (or {@code runc exec}) and reports the pid
 * (or runc's error) on a sync pipe, then outlives the daemon and writes the exit code to
 * {@code <exits>/<id>} (an exec: to its directory's {@code exit} file and to the sync pipe). The pipes
 * are FIFOs handed to conmon as fds 3, 4, 5 by a one-line shell: Java cannot pass extra descriptors.
 */
public final class Conmon {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path binary;
    private final Runc runc;
    private final Path exits;

    public Conmon(Path binary, Runc runc, Path exits) throws IOException {
        this.binary = binary;
        this.runc = runc;
        this.exits = exits;
        Files.createDirectories(exits);
    }

    public Path exits() {
        return exits;
    }

    /** What a create produced: the container's init pid and conmon's pid. */
    public record Created(int pid, int conmonPid) {
    }

    /** How a container's (or exec's) stdio is set up: terminal, stdin pipe, stdin closed when the client closes. */
    public record Stdio(boolean tty, boolean stdin, boolean stdinOnce) {
    }

    /**
     * Runs {@code runc create} under a new conmon. The bundle directory holds config.json; conmon's files
     * (pid files, attach socket, ctl FIFO) go there too.
     */
    public Created create(String id, String name, Path bundle, Path logPath, long logSizeMax, Stdio stdio) throws IOException {
        Files.deleteIfExists(exits.resolve(id));
        List<String> command = new ArrayList<>(List.of("-c", id, "-u", id, "-n", name, "--exit-dir", exits.toString(),
                "-0", bundle.toString(), "-l", "k8s-file:" + logPath));
        if (logSizeMax > 0) {
            command.add("--log-size-max");
            command.add(Long.toString(logSizeMax));
        }
        Launch launch = launch(bundle, command, stdio, false);
        try (BufferedReader sync = launch.sync()) {
            int pid = launch.readPid(sync);
            return new Created(pid, launch.conmonPid());
        }
    }

    /** A started exec: its pid, and the still open sync pipe on which conmon will report the exit code. */
    public record Exec(int pid, int conmonPid, BufferedReader sync) {
        /** Blocks until the process exits; its exit code (128+signal when killed). */
        public int awaitExit() throws IOException {
            try (BufferedReader in = sync) {
                String line = in.readLine();
                if (line == null || line.isBlank()) {
                    throw new IOException("conmon ended without reporting the exec's exit code");
                }
                return JSON.readTree(line).path("data").asInt(-1);
            }
        }
    }

    /** The exec is launched; once {@code attach} returned, runc exec runs (so no output is lost). */
    public interface BeforeStart {
        void attach() throws IOException;
    }

    /**
     * Runs {@code runc exec --process SPEC} under a new conmon whose attach socket and ctl FIFO are in
     * {@code dir}. {@code beforeStart} runs when the attach socket is ready and before the process starts.
     */
    public Exec exec(String containerId, String execId, Path dir, Path processSpec, Stdio stdio, BeforeStart beforeStart)
            throws IOException {
        List<String> command = new ArrayList<>(List.of("-c", containerId, "-u", execId, "-n", execId, "-e",
                "--exec-attach", "--exec-process-spec", processSpec.toString(), "-0", dir.toString(), "-l", "none"));
        Launch launch = launch(dir, command, stdio, true);
        BufferedReader sync = launch.sync();
        try {
            launch.awaitAttachReady();
            beforeStart.attach();
            launch.releaseStart();
            int pid = launch.readPid(sync);
            return new Exec(pid, launch.conmonPid(), sync);
        } catch (IOException | RuntimeException e) {
            sync.close();
            throw e;
        } finally {
            launch.closePipes();
        }
    }

    /** conmon starting: its pipes, its output file, its pid file. */
    private final class Launch {
        private final Path dir;
        private final Process process;
        private final BufferedReader sync;
        private final InputStream attachPipe;
        private final OutputStream startPipe;

        Launch(Path dir, Process process, BufferedReader sync, InputStream attachPipe, OutputStream startPipe) {
            this.dir = dir;
            this.process = process;
            this.sync = sync;
            this.attachPipe = attachPipe;
            this.startPipe = startPipe;
        }

        BufferedReader sync() {
            return sync;
        }

        void awaitAttachReady() throws IOException {
            startPipe.write('s'); // conmon blocks on this before it forks
            startPipe.flush();
            byte[] buf = new byte[256];
            if (attachPipe.read(buf) <= 0) {
                throw new EngineException(ErrorKind.INTERNAL, "conmon exited before its attach socket was ready: " + output());
            }
        }

        void releaseStart() throws IOException {
            startPipe.write('s');
            startPipe.flush();
        }

        void closePipes() {
            try {
                if (attachPipe != null) {
                    attachPipe.close();
                }
                if (startPipe != null) {
                    startPipe.close();
                }
            } catch (IOException ignored) {
                // nothing left to tell conmon
            }
        }

        /** conmon's first report: the pid, or runc's error. */
        int readPid(BufferedReader in) throws IOException {
            String line = in.readLine();
            String report = line == null ? "" : line.strip();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted");
            }
            if (report.isEmpty()) {
                throw new EngineException(ErrorKind.INTERNAL, "conmon reported nothing: " + output());
            }
            JsonNode last = JSON.readTree(report);
            int pid = last.path("data").asInt(-1);
            if (pid <= 0) {
                throw new RuntimeFailure(Runc.message(last.path("message").asText("unknown error")));
            }
            return pid;
        }

        int conmonPid() throws IOException {
            return Integer.parseInt(Files.readString(dir.resolve("conmon.pid")).strip());
        }

        private String output() throws IOException {
            Path out = dir.resolve("conmon.out");
            return Files.exists(out) ? Files.readString(out).strip() : "";
        }
    }

    private Launch launch(Path dir, List<String> specific, Stdio stdio, boolean exec) throws IOException {
        Path sync = fifo(dir, "sync");
        Path attach = exec ? fifo(dir, "attach-ready") : null;
        Path start = exec ? fifo(dir, "start") : null;
        List<String> command = new ArrayList<>(List.of("/bin/sh", "-c",
                exec ? "exec 3>\"$0\" 4>\"$1\" 5<\"$2\"; shift 2; exec \"$@\"" : "exec 3>\"$0\"; exec \"$@\""));
        command.add(sync.toString());
        if (exec) {
            command.add(attach.toString());
            command.add(start.toString());
        }
        command.addAll(List.of(binary.toString(), "--api-version", "1", "-r", runc.binary().toString(), "-b", dir.toString(),
                "-p", dir.resolve("pidfile").toString(), "-P", dir.resolve("conmon.pid").toString(), "--full-attach"));
        command.addAll(specific);
        for (String arg : runc.globalArgs()) {
            command.add("--runtime-arg");
            command.add(arg);
        }
        if (stdio.tty()) {
            command.add("-t");
        }
        if (stdio.stdin()) {
            command.add("-i");
            if (!stdio.stdinOnce()) {
                command.add("--leave-stdin-open"); // stdin closes with the attached client's input only for StdinOnce
            }
        }
        // conmon's own output goes to a file: the daemonised conmon keeps its stdio, so a pipe would never end.
        Path output = dir.resolve("conmon.out");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        pb.environment().put("_OCI_SYNCPIPE", "3");
        if (exec) {
            pb.environment().put("_OCI_ATTACHPIPE", "4");
            pb.environment().put("_OCI_STARTPIPE", "5");
        }
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        // The shell opens the FIFOs in this order; opening each end blocks until the other side opens it.
        // conmon keeps the sync pipe open while the process runs: only its first message is read here.
        BufferedReader syncReader = Files.newBufferedReader(sync, StandardCharsets.UTF_8);
        InputStream attachPipe = null;
        OutputStream startPipe = null;
        try {
            if (exec) {
                attachPipe = Files.newInputStream(attach);
                startPipe = Files.newOutputStream(start);
            }
        } finally {
            Files.deleteIfExists(sync);
            if (exec) {
                Files.deleteIfExists(attach);
                Files.deleteIfExists(start);
            }
        }
        return new Launch(dir, p, syncReader, attachPipe, startPipe);
    }

    private static Path fifo(Path dir, String name) throws IOException {
        Path f = dir.resolve(name);
        Files.deleteIfExists(f);
        Syscalls.mknod(f.toString(), Syscalls.S_IFIFO | 0600, 0, 0);
        return f;
    }

    /** runc create (or exec) failed: the runtime's own message (Docker puts it in "OCI runtime create failed: ..."). */
    public static final class RuntimeFailure extends IOException {
        public RuntimeFailure(String message) {
            super(message);
        }
    }

    /** The exit code conmon recorded, if the process has exited. */
    public Integer exitCode(String id) throws IOException {
        Path f = exits.resolve(id);
        if (!Files.exists(f)) {
            return null;
        }
        String text = Files.readString(f).strip();
        return text.isEmpty() ? null : Integer.parseInt(text);
    }
}
