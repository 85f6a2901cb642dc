package io.dockgate.gateway.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.config.ConfigKey;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A daemon on a Unix socket in a temporary directory, and the docker CLI pointed at it. */
public final class CliSession implements AutoCloseable {
    private final TestDaemon daemon;
    private final Path socket;
    private final Path config;

    private CliSession(TestDaemon daemon, Path socket, Path config) {
        this.daemon = daemon;
        this.socket = socket;
        this.config = config;
    }

    public static CliSession start(Path dir) throws Exception {
        Prerequisites.requireRoot();
        Path socket = dir.resolve("dg.sock");
        Map<ConfigKey, Object> flags = TestDaemon.baseFlags(dir);
        flags.put(ConfigKey.HOSTS, List.of("unix://" + socket));
        return new CliSession(TestDaemon.start(flags, dir), socket, dir.resolve("docker-config"));
    }

    public Path socket() {
        return socket;
    }

    public DockerCli.Result docker(String... args) throws Exception {
        return DockerCli.run(config, DockerCli.unixEnv(socket), args);
    }

    /** Runs the command and fails the test unless it exits 0. */
    public DockerCli.Result ok(String... args) throws Exception {
        DockerCli.Result r = docker(args);
        assertThat(r.exitCode()).as("docker " + String.join(" ", args) + "\n" + r).isZero();
        return r;
    }

    @Override
    public void close() throws Exception {
        daemon.close();
    }
}
