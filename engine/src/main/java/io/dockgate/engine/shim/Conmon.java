package io.dockgate.engine.shim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.runtime.Runc;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Launches one conmon per container process, as Podman drives it: conmon daemonises, becomes the
 * process's parent (subreaper), holds its stdio, writes the k8s-file log, runs {@code runc create} and
 * reports the container's pid (or runc's error) on a sync pipe, then outlives the daemon and writes the
 * exit code to {@code <exits>/<id>}. The sync pipe is a FIFO handed to conmon as fd 3 by a one-line shell
 * (Java cannot pass extra descriptors to a child).
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

    /**
     * Runs {@code runc create} under a new conmon. The bundle directory holds config.json; conmon's files
     * (pid files, attach socket, ctl FIFO) go there too.
     */
    public Created create(String id, String name, Path bundle, Path logPath, long logSizeMax, boolean tty, boolean stdin)
            throws IOException {
        Path sync = bundle.resolve("sync");
        Files.deleteIfExists(sync);
        Files.deleteIfExists(exits.resolve(id));
        io.dockgate.engine.sys.Syscalls.mknod(sync.toString(), io.dockgate.engine.sys.Syscalls.S_IFIFO | 0600, 0, 0);
        List<String> command = new ArrayList<>(List.of("/bin/sh", "-c", "exec 3>\"$0\"; exec \"$@\"", sync.toString(),
                binary.toString(), "--api-version", "1", "-c", id, "-u", id, "-r", runc.binary().toString(),
                "-b", bundle.toString(), "-p", bundle.resolve("pidfile").toString(), "-n", name,
                "--exit-dir", exits.toString(), "-0", bundle.toString(), "--full-attach",
                "-l", "k8s-file:" + logPath, "-P", bundle.resolve("conmon.pid").toString()));
        if (logSizeMax > 0) {
            command.add("--log-size-max");
            command.add(Long.toString(logSizeMax));
        }
        for (String arg : runc.globalArgs()) {
            command.add("--runtime-arg");
            command.add(arg);
        }
        if (tty) {
            command.add("-t");
        }
        if (stdin) {
            command.add("-i");
            command.add("--leave-stdin-open");
        }
        // conmon's own output goes to a file: the daemonised conmon keeps its stdio, so a pipe would never end.
        Path output = bundle.resolve("conmon.out");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        pb.environment().put("_OCI_SYNCPIPE", "3");
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        String report;
        // conmon keeps the sync pipe open while the container runs: read its first message only.
        try (java.io.BufferedReader in = Files.newBufferedReader(sync, StandardCharsets.UTF_8)) {
            String line = in.readLine();
            report = line == null ? "" : line.strip();
        } finally {
            Files.deleteIfExists(sync);
        }
        try {
            p.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        }
        if (report.isEmpty()) {
            String out = Files.exists(output) ? Files.readString(output).strip() : "";
            throw new EngineException(ErrorKind.INTERNAL, "conmon reported nothing: " + out);
        }
        JsonNode last = JSON.readTree(report);
        int pid = last.path("data").asInt(-1);
        if (pid <= 0) {
            throw new RuntimeFailure(Runc.message(last.path("message").asText("unknown error")));
        }
        int conmonPid = Integer.parseInt(Files.readString(bundle.resolve("conmon.pid")).strip());
        return new Created(pid, conmonPid);
    }

    /** runc create failed: the runtime's own message (Docker puts it in "OCI runtime create failed: ..."). */
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
