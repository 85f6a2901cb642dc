package io.dockgate.engine.runtime;

import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The OCI runtime (runc, or any binary with its command line): start, kill, pause, resume, delete,
 * state and ps, with its own state root under the exec root. Blocking: worker threads only.
 */
public final class Runc {
    private static final Pattern MSG = Pattern.compile("msg=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final Path binary;
    private final Path root;

    public Runc(Path binary, Path root) {
        this.binary = binary;
        this.root = root;
    }

    public Path binary() {
        return binary;
    }

    public Path root() {
        return root;
    }

    /** The arguments conmon passes through to the runtime (its state root). */
    public List<String> globalArgs() {
        return List.of("--root", root.toString());
    }

    public void start(String id) throws IOException {
        run("start", id);
    }

    public void kill(String id, int signal, boolean all) throws IOException {
        List<String> args = new ArrayList<>(List.of("kill"));
        if (all) {
            args.add("--all");
        }
        args.add(id);
        args.add(Integer.toString(signal));
        run(args.toArray(new String[0]));
    }

    public void pause(String id) throws IOException {
        run("pause", id);
    }

    public void resume(String id) throws IOException {
        run("resume", id);
    }

    /** runc delete --force: removes the runtime state (and kills what is left). Absent containers are fine. */
    public void delete(String id) throws IOException {
        if (!java.nio.file.Files.exists(root.resolve(id))) {
            return; // no runtime state: nothing to delete (and no process to spawn)
        }
        try {
            run("delete", "--force", id);
        } catch (EngineException e) {
            if (!String.valueOf(e.getMessage()).contains("does not exist")) {
                throw e;
            }
        }
    }

    /** runc update: new cgroup limits for a running container (zero: unchanged). */
    public void update(String id, long memory, long memorySwap, long cpuShares, long cpuQuota, long cpuPeriod, long pidsLimit,
                       String cpusetCpus) throws IOException {
        List<String> args = new ArrayList<>(List.of("update"));
        if (memory > 0) {
            args.addAll(List.of("--memory", Long.toString(memory), "--memory-swap", Long.toString(memorySwap)));
        }
        if (cpuShares > 0) {
            args.addAll(List.of("--cpu-share", Long.toString(cpuShares)));
        }
        if (cpuQuota != 0) {
            args.addAll(List.of("--cpu-quota", Long.toString(cpuQuota)));
        }
        if (cpuPeriod > 0) {
            args.addAll(List.of("--cpu-period", Long.toString(cpuPeriod)));
        }
        if (pidsLimit != 0) {
            args.addAll(List.of("--pids-limit", Long.toString(pidsLimit)));
        }
        if (cpusetCpus != null && !cpusetCpus.isEmpty()) {
            args.addAll(List.of("--cpuset-cpus", cpusetCpus));
        }
        args.add(id);
        run(args.toArray(new String[0]));
    }

    public String state(String id) throws IOException {
        return run("state", id);
    }

    /** PIDs (host view) of the container's processes. */
    public String ps(String id) throws IOException {
        return run("ps", "--format", "json", id);
    }

    private String run(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(binary.toString());
        command.addAll(globalArgs());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new EngineException(ErrorKind.INTERNAL, "runc " + args[0] + " timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        }
        if (p.exitValue() != 0) {
            throw new EngineException(ErrorKind.INTERNAL, "runc " + args[0] + " failed: " + message(new String(err, StandardCharsets.UTF_8)));
        }
        return new String(out, StandardCharsets.UTF_8);
    }

    /** The msg="..." of runc's logfmt error line, unescaped; the raw text otherwise. */
    public static String message(String stderr) {
        Matcher m = MSG.matcher(stderr);
        String last = null;
        while (m.find()) {
            last = m.group(1).replace("\\\"", "\"").replace("\\\\", "\\");
        }
        return last != null ? last : stderr.strip();
    }
}
