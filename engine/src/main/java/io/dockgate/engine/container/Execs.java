package io.dockgate.engine.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.files.AtomicFiles;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.oci.SpecBuilder;
import io.dockgate.engine.oci.UserResolver;
import io.dockgate.engine.shim.Conmon;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * docker exec: more processes in a running container, each under its own conmon in exec mode
 * ({@code runc exec --process}), with its own attach socket and control FIFO in
 * {@code <exec-root>/execs/<exec-id>/}. Sessions live in memory, as dockerd keeps them, and go away with
 * their container's exit. The exit code comes back on conmon's sync pipe.
 */
public final class Execs {
    private static final Logger LOG = LoggerFactory.getLogger(Execs.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What to run: Docker's ExecConfig (detachKeys is kept for the client that starts it). */
    public record ExecSpec(List<String> cmd, List<String> env, String user, String workingDir, boolean tty, boolean privileged,
                           boolean attachStdin, boolean attachStdout, boolean attachStderr, int consoleHeight, int consoleWidth,
                           String detachKeys) {
        public ExecSpec withConsoleSize(int height, int width) {
            return new ExecSpec(cmd, env, user, workingDir, tty, privileged, attachStdin, attachStdout, attachStderr, height, width,
                    detachKeys);
        }
    }

    /** An exec session's lifecycle: created, then running once started, then exited (it runs once). */
    public enum State { CREATED, RUNNING, EXITED }

    /** What exec sessions need of the containers: their records and bundles, and events. */
    interface Host {
        /** The container by name, ID or prefix (not found otherwise). */
        ContainerRecord inspect(String ref);

        /** The container by full ID, null when it is gone. */
        ContainerRecord find(String id);

        Path bundle(String id);

        void emit(ContainerRecord c, String action, String... extra);
    }

    /**
     * One exec instance. Its state changes through {@link #begin} and {@link #end} only; fields are written by
     * the session's own threads and read by inspect.
     */
    public static final class Session {
        private final String id;
        private final String containerId;
        private final ExecSpec spec;
        private final CompletableFuture<Integer> exited = new CompletableFuture<>();
        private State state = State.CREATED;
        private volatile int pid;
        private volatile Integer exitCode;

        /** CREATED to RUNNING; an exec runs once. */
        synchronized void begin() {
            if (state != State.CREATED) {
                throw EngineException.conflict("Error: Exec command " + id + " has already run");
            }
            state = State.RUNNING;
        }

        /** To EXITED with its code (also when its start failed). */
        void end(int code) {
            synchronized (this) {
                exitCode = code;
                state = State.EXITED;
            }
            exited.complete(code);
        }

        public synchronized State state() {
            return state;
        }

        Session(String id, String containerId, ExecSpec spec) {
            this.id = id;
            this.containerId = containerId;
            this.spec = spec;
        }

        public String id() { return id; }
        public String containerId() { return containerId; }
        public ExecSpec spec() { return spec; }
        public boolean running() { return state() == State.RUNNING && pid > 0; }
        public int pid() { return pid; }
        public Integer exitCode() { return exitCode; }
        public CompletableFuture<Integer> exited() { return exited; }
    }

    private final Host containers;
    private final Path root;
    private final Conmon conmon;
    private final Executor background;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();

    Execs(Host containers, Path execRoot, Conmon conmon, Executor background) throws IOException {
        this.containers = containers;
        this.root = execRoot.resolve("execs");
        this.conmon = conmon;
        this.background = background;
        io.dockgate.files.FileTrees.delete(root); // sessions do not survive the daemon; their processes were the container's
        Files.createDirectories(root);
    }

    /** POST /containers/{id}/exec. */
    public Session create(String containerRef, ExecSpec spec) {
        ContainerRecord c = containers.inspect(containerRef);
        requireRunning(c);
        if (spec.cmd() == null || spec.cmd().isEmpty()) {
            throw EngineException.invalid("No exec command specified");
        }
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        Session s = new Session(HexFormat.of().formatHex(b), c.id(), spec);
        sessions.put(s.id(), s);
        containers.emit(c, "exec_create: " + String.join(" ", spec.cmd()), "execID", s.id());
        return s;
    }

    private static void requireRunning(ContainerRecord c) {
        if (c.status().state() == ContainerState.PAUSED) {
            throw EngineException.conflict("Container " + c.id() + " is paused, unpause the container before exec");
        }
        if (c.status().state() != ContainerState.RUNNING) {
            throw EngineException.conflict("Container " + c.id() + " is not running");
        }
    }

    public Session get(String execId) {
        Session s = sessions.get(execId);
        if (s == null) {
            throw EngineException.notFound("No such exec instance: " + execId);
        }
        return s;
    }

    /**
     * Starts the process. With a sink, the client is attached before the process runs and the sink ends
     * after the exit code is recorded (the CLI inspects the exec for it right after the stream ends).
     */
    public Attachment start(String execId, Attachment.Sink sink) throws IOException {
        return start(execId, sink, 0, 0);
    }

    /** Starts with the terminal size the client has now (it overrides the one given at create). */
    public Attachment start(String execId, Attachment.Sink sink, int consoleHeight, int consoleWidth) throws IOException {
        Session s = get(execId);
        s.begin();
        ContainerRecord c = containers.inspect(s.containerId());
        requireRunning(c);
        Path dir = root.resolve(s.id());
        Files.createDirectories(dir);
        Attachment[] attachment = new Attachment[1];
        try {
            Path processSpec = dir.resolve("process.json");
            ExecSpec sized = consoleHeight > 0 && consoleWidth > 0 ? s.spec().withConsoleSize(consoleHeight, consoleWidth) : s.spec();
            AtomicFiles.writeUnsynced(processSpec, JSON.writeValueAsBytes(process(c, sized)), AtomicFiles.PRIVATE);
            ExecSpec e = s.spec();
            Conmon.Stdio stdio = new Conmon.Stdio(e.tty(), e.attachStdin() && sink != null, true);
            Conmon.Exec exec = conmon.exec(c.id(), s.id(), dir, processSpec, stdio, () -> {
                if (sink != null) {
                    attachment[0] = Attachment.open(dir.resolve("attach"),
                            new Attachment.Streams(e.attachStdin(), e.attachStdout(), e.attachStderr()), sink, background,
                            () -> s.exited);
                }
            });
            s.pid = exec.pid();
            containers.emit(c, "exec_start: " + String.join(" ", s.spec().cmd()), "execID", s.id());
            background.execute(() -> awaitExit(s, exec, dir));
            return attachment[0];
        } catch (Conmon.RuntimeFailure f) {
            finish(s, 126, dir);
            if (attachment[0] != null) {
                attachment[0].close();
            }
            String message = f.getMessage().replaceFirst("^runc exec failed: ", "");
            if (!message.startsWith("exec failed:")) {
                message = "exec failed: " + message;
            }
            throw new EngineException(ErrorKind.RUNTIME, "OCI runtime exec failed: " + message + ": unknown", f);
        } catch (IOException | RuntimeException x) {
            finish(s, 126, dir);
            if (attachment[0] != null) {
                attachment[0].close();
            }
            throw x;
        }
    }

    private void awaitExit(Session s, Conmon.Exec exec, Path dir) {
        int code;
        try {
            code = exec.awaitExit();
        } catch (IOException | RuntimeException e) {
            LOG.warn("exec {}: {}", s.id(), e.toString());
            code = readExitFile(dir);
        }
        finish(s, code, dir);
    }

    private static int readExitFile(Path dir) {
        try {
            return Integer.parseInt(Files.readString(dir.resolve("exit")).strip());
        } catch (IOException | RuntimeException e) {
            return 255;
        }
    }

    private void finish(Session s, int code, Path dir) {
        try {
            io.dockgate.files.FileTrees.delete(dir);
        } catch (IOException e) {
            LOG.warn("removing exec directory {}: {}", dir, e.toString());
        }
        ContainerRecord c = containers.find(s.containerId());
        if (c != null && s.pid > 0) {
            containers.emit(c, "exec_die", "execID", s.id(), "exitCode", Integer.toString(code));
        }
        s.end(code);
    }

    /** The exec's terminal size (conmon's control FIFO). */
    public void resize(String execId, int height, int width) throws IOException {
        Session s = get(execId);
        if (s.state() != State.RUNNING) {
            throw EngineException.conflict("exec " + execId + " is not running");
        }
        Attachments.resizeConsole(root.resolve(s.id()), height, width);
    }

    /** An exec of the daemon's own (a health probe) is not kept once it ended. */
    void forget(String execId) {
        sessions.remove(execId);
    }

    /** The container ended: its exec sessions go (their processes died with its PID namespace). */
    void containerExited(String containerId) {
        sessions.values().removeIf(s -> s.containerId().equals(containerId) && s.state() != State.RUNNING);
    }

    /** Exec IDs of a container (inspect's ExecIDs). */
    public List<String> idsOf(String containerId) {
        List<String> ids = new ArrayList<>();
        sessions.values().forEach(s -> {
            if (s.containerId().equals(containerId)) {
                ids.add(s.id());
            }
        });
        return ids;
    }

    /** The process spec: the container's own, with the exec's command, env, user, cwd, terminal and privileges. */
    private ObjectNode process(ContainerRecord c, ExecSpec e) throws IOException {
        Path bundle = containers.bundle(c.id());
        ObjectNode config = (ObjectNode) JSON.readTree(bundle.resolve("config.json").toFile());
        ObjectNode process = (ObjectNode) config.get("process").deepCopy();
        process.put("terminal", e.tty());
        process.remove("consoleSize");
        if (e.tty() && e.consoleHeight() > 0 && e.consoleWidth() > 0) {
            process.putObject("consoleSize").put("height", e.consoleHeight()).put("width", e.consoleWidth());
        }
        ArrayNode args = process.putArray("args");
        e.cmd().forEach(args::add);
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode kv : process.path("env")) { // the container's, as it started (with its links' variables)
            ContainerCreation.putEnv(env, kv.asText());
        }
        for (String kv : e.env() == null ? List.<String>of() : e.env()) {
            ContainerCreation.putEnv(env, kv);
        }
        ArrayNode envNode = process.putArray("env");
        env.forEach((k, v) -> envNode.add(v == null ? k : k + "=" + v));
        if (e.workingDir() != null && !e.workingDir().isEmpty()) {
            if (!e.workingDir().startsWith("/")) {
                throw EngineException.invalid("the working directory '" + e.workingDir() + "' is invalid, it needs to be an absolute path");
            }
            process.put("cwd", e.workingDir());
        }
        if (e.user() != null && !e.user().isEmpty()) {
            Path rootfs = Path.of(config.path("root").path("path").asText());
            SpecBuilder.putUser(process, UserResolver.withGroups(rootfs, UserResolver.resolve(rootfs, e.user()),
                    c.spec().host().groupAddOrEmpty())); // as dockerd: the container's --group-add holds for its execs
        }
        if (e.privileged()) {
            SpecBuilder.putAllCapabilities(process);
        }
        return process;
    }
}
