package io.dockgate.gateway.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real docker CLI with a private DOCKER_CONFIG and the given environment. A missing CLI fails
 * the test with what to install; it is never skipped.
 */
public final class DockerCli {
    /** The result of one CLI run. */
    public record Result(int exitCode, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr;
        }
    }

    private DockerCli() {
    }

    public static String binary() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin").split(":")) {
            Path p = Path.of(dir, "docker");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        throw new AssertionError("the docker CLI is not installed: install the docker CLI (28.x) or Debian's docker.io "
                + "(the setup script does this)");
    }

    public static Result run(Path configDir, Map<String, String> env, String... args) throws IOException, InterruptedException {
        return run(configDir, env, null, args);
    }

    /** Runs the CLI with the given bytes on its standard input (null: /dev/null). */
    public static Result run(Path configDir, Map<String, String> env, byte[] input, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(binary());
        command.addAll(List.of(args));
        return execute(command, configDir, env, input, null);
    }

    /** Starts the CLI in the background (stdin a pipe the caller may use, output discarded); the caller ends it. */
    public static Process start(Path configDir, Map<String, String> env, String... args) throws IOException {
        return start(configDir, env, false, args);
    }

    /** As {@link #start}, with the standard output readable from the process when {@code piped}. */
    public static Process start(Path configDir, Map<String, String> env, boolean piped, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(binary());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().keySet().removeIf(k -> k.startsWith("DOCKER_"));
        pb.environment().put("DOCKER_CONFIG", configDir.toString());
        pb.environment().putAll(env);
        pb.redirectOutput(piped ? ProcessBuilder.Redirect.PIPE : ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        return pb.start();
    }

    /**
     * Runs the CLI in a pseudo-terminal (util-linux script) of 30 rows and 100 columns; each string is
     * typed after a pause of 700 ms. Output is what the terminal showed; the exit code is the CLI's.
     */
    public static Result runInTerminal(Path configDir, Map<String, String> env, List<String> typed, String... args)
            throws IOException, InterruptedException {
        StringBuilder line = new StringBuilder("stty cols 100 rows 30; exec ").append(binary());
        for (String a : args) {
            line.append(" '").append(a.replace("'", "'\\''")).append('\'');
        }
        return execute(List.of("script", "-qefc", line.toString(), "/dev/null"), configDir, env, null, typed);
    }

    private static Result execute(List<String> command, Path configDir, Map<String, String> env, byte[] input, List<String> typed)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().keySet().removeIf(k -> k.startsWith("DOCKER_"));
        pb.environment().put("DOCKER_CONFIG", configDir.toString());
        pb.environment().putAll(env);
        Path out = Files.createTempFile("docker-out", ".txt");
        Path err = Files.createTempFile("docker-err", ".txt");
        pb.redirectOutput(out.toFile());
        pb.redirectError(err.toFile());
        if (input == null && typed == null) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        }
        Process p = pb.start();
        if (input != null) {
            try (var stdin = p.getOutputStream()) {
                stdin.write(input);
            } catch (IOException e) {
                // the command may exit before reading everything
            }
        } else if (typed != null) {
            try (var stdin = p.getOutputStream()) {
                for (String t : typed) {
                    Thread.sleep(700);
                    stdin.write(t.getBytes(StandardCharsets.UTF_8));
                    stdin.flush();
                }
                Thread.sleep(700);
            } catch (IOException e) {
                // the command may exit before reading everything
            }
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish in 60 s");
        }
        Result r = new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
        return r;
    }

    /** Environment for mutual TLS with a DOCKER_CERT_PATH bundle. */
    public static Map<String, String> tlsEnv(String host, Path certPath) {
        return Map.of("DOCKER_HOST", host, "DOCKER_TLS_VERIFY", "1", "DOCKER_CERT_PATH", certPath.toString());
    }

    public static Map<String, String> unixEnv(Path socket) {
        return Map.of("DOCKER_HOST", "unix://" + socket);
    }
}
