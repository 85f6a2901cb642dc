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
    private final List<String> command;
    private final Path dir;
    private final int tlsPort;

    private Dockerd(Process process, Path socket, List<String> command, Path dir, int tlsPort) {
        this.process = process;
        this.socket = socket;
        this.command = command;
        this.dir = dir;
        this.tlsPort = tlsPort;
    }

    public static Dockerd start(Path dir) throws Exception {
        return start(dir, null, 0);
    }

    /**
     * With mutual TLS on 127.0.0.1:port too: pkiDir holds ca.pem, server-cert.pem and server-key.pem (as
     * {@code TestPki.writeServerFiles} writes them).
     */
    public static Dockerd start(Path dir, Path pkiDir, int port) throws Exception {
        return start(dir, pkiDir, port, null);
    }

    /**
     * With its default bridge (docker0, at {@code bip}, a subnet the test owns) instead of none, still
     * without iptables: published ports go through dockerd's userland proxy. The caller deletes docker0.
     */
    public static Dockerd startWithBridge(Path dir, String bip) throws Exception {
        return start(dir, null, 0, bip);
    }

    private static Dockerd start(Path dir, Path pkiDir, int port, String bip) throws Exception {
        if (!Files.isExecutable(Path.of("/usr/sbin/dockerd")) && !Files.isExecutable(Path.of("/usr/bin/dockerd"))) {
            throw new AssertionError("dockerd is missing: apt-get install docker.io (the setup script does this)");
        }
        Files.createDirectories(dir);
        Path socket = dir.resolve("docker.sock");
        Path config = dir.resolve("daemon.json");
        Files.writeString(config, "{}");
        Path exec = Path.of("/run/dg-test-dockerd-" + ProcessHandle.current().pid() + "-" + Math.abs(dir.hashCode()));
        List<String> command = new java.util.ArrayList<>(List.of("dockerd", "--iptables=false", "--ip6tables=false",
                bip == null ? "--bridge=none" : "--bip=" + bip,
                "--data-root", dir.resolve("data").toString(), "--exec-root", exec.toString(),
                "--pidfile", dir.resolve("docker.pid").toString(), "--config-file", config.toString(),
                "-H", "unix://" + socket));
        if (pkiDir != null) {
            command.addAll(List.of("--tlsverify", "--tlscacert", pkiDir.resolve("ca.pem").toString(),
                    "--tlscert", pkiDir.resolve("server-cert.pem").toString(), "--tlskey", pkiDir.resolve("server-key.pem").toString(),
                    "-H", "tcp://127.0.0.1:" + port));
        }
        return launch(command, dir, socket, port);
    }

    private static Dockerd launch(List<String> command, Path dir, Path socket, int port) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("dockerd.log").toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (Files.exists(socket)) {
                try {
                    String r = RawHttp.unixGet(socket, "/_ping");
                    if (RawHttp.status(r) == 200) {
                        return new Dockerd(p, socket, command, dir, port);
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

    /** The TLS port (0 without TLS). */
    public int tlsPort() {
        return tlsPort;
    }

    /** Stops dockerd (its containers stop with it). */
    public void stop() throws Exception {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }

    /** Starts it again with the same data, sockets and ports. */
    public Dockerd restart() throws Exception {
        return launch(command, dir, socket, tlsPort);
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        // its exec root under /run (state, sockets of its containerd): nothing of it may outlive the test
        int at = command.indexOf("--exec-root");
        if (at >= 0) {
            Path exec = Path.of(command.get(at + 1));
            if (Files.isDirectory(exec) && !mounted(exec)) {
                io.dockgate.files.FileTrees.delete(exec);
            }
        }
    }

    private static boolean mounted(Path under) throws java.io.IOException {
        return Files.readAllLines(Path.of("/proc/self/mounts")).stream().anyMatch(l -> l.split(" ")[1].startsWith(under.toString()));
    }
}
