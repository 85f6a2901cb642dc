package io.dockgate.gateway.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * dockerd 20.10 from Debian's docker.io, run privately for side-by-side tests: its own data root, exec
 * root, pid file and Unix socket, no iptables, no bridge, no TCP. A missing dockerd fails the test.
 */
public final class Dockerd implements AutoCloseable {
    private final Process process;
    private final Path socket;

    private Dockerd(Process process, Path socket) {
        this.process = process;
        this.socket = socket;
    }

    public static Dockerd start(Path dir) throws Exception {
        if (!Files.isExecutable(Path.of("/usr/sbin/dockerd")) && !Files.isExecutable(Path.of("/usr/bin/dockerd"))) {
            throw new AssertionError("dockerd is missing: apt-get install docker.io (the setup script does this)");
        }
        Files.createDirectories(dir);
        Path socket = dir.resolve("docker.sock");
        Path config = dir.resolve("daemon.json");
        Files.writeString(config, "{}");
        Path exec = Path.of("/run/dg-test-dockerd-" + ProcessHandle.current().pid() + "-" + Math.abs(dir.hashCode()));
        List<String> command = List.of("dockerd", "--iptables=false", "--ip6tables=false", "--bridge=none",
                "--data-root", dir.resolve("data").toString(), "--exec-root", exec.toString(),
                "--pidfile", dir.resolve("docker.pid").toString(), "--config-file", config.toString(),
                "-H", "unix://" + socket);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("dockerd.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (Files.exists(socket)) {
                try {
                    String r = RawHttp.unixGet(socket, "/_ping");
                    if (RawHttp.status(r) == 200) {
                        return new Dockerd(p, socket);
                    }
                } catch (IOException e) {
                    // not yet
                }
            }
            if (!p.isAlive()) {
                throw new AssertionError("dockerd exited: " + Files.readString(dir.resolve("dockerd.log")));
            }
            Thread.sleep(100);
        }
        p.destroy();
        throw new AssertionError("dockerd did not start in 60 s: " + Files.readString(dir.resolve("dockerd.log")));
    }

    public Path socket() {
        return socket;
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
