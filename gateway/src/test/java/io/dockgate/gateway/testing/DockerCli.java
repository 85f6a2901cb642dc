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
        List<String> command = new ArrayList<>();
        command.add(binary());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().keySet().removeIf(k -> k.startsWith("DOCKER_"));
        pb.environment().put("DOCKER_CONFIG", configDir.toString());
        pb.environment().putAll(env);
        Path out = Files.createTempFile("docker-out", ".txt");
        Path err = Files.createTempFile("docker-err", ".txt");
        pb.redirectOutput(out.toFile());
        pb.redirectError(err.toFile());
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("docker " + String.join(" ", args) + " did not finish in 60 s");
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
