package io.dockgate.gateway.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.certs.testing.TestPki;
import io.dockgate.config.ConfigKey;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A daemon in a temporary directory and the docker CLI pointed at it: over the Unix socket, or (when
 * started with TLS) over mutual TLS with a client bundle from a test PKI.
 */
public final class CliSession implements AutoCloseable {
    private final TestDaemon daemon;
    private final Path socket;
    private final Path config;
    private final Map<String, String> env;

    private CliSession(TestDaemon daemon, Path socket, Path config, Map<String, String> env) {
        this.daemon = daemon;
        this.socket = socket;
        this.config = config;
        this.env = env;
    }

    /** A daemon on a Unix socket only. */
    public static CliSession start(Path dir) throws Exception {
        return start(dir, dir.resolve("dg.sock"));
    }

    /** A daemon on the given Unix socket only. */
    public static CliSession start(Path dir, Path socket) throws Exception {
        return start(dir, socket, Map.of());
    }

    /** A daemon on the given Unix socket only, with more flags (networking). */
    public static CliSession start(Path dir, Path socket, Map<ConfigKey, Object> extra) throws Exception {
        Prerequisites.requireRoot();
        Map<ConfigKey, Object> flags = TestDaemon.baseFlags(dir);
        flags.put(ConfigKey.HOSTS, List.of("unix://" + socket));
        flags.putAll(extra);
        return new CliSession(TestDaemon.start(flags, dir), socket, dir.resolve("docker-config"), DockerCli.unixEnv(socket));
    }

    /** A daemon on a Unix socket and on 127.0.0.1 with mutual TLS; this session talks over the socket. */
    public static CliSession startWithTls(Path dir) throws Exception {
        return startWithTls(dir, Map.of());
    }

    /** As {@link #startWithTls(Path)}, with more flags (networking). */
    public static CliSession startWithTls(Path dir, Map<ConfigKey, Object> extra) throws Exception {
        Prerequisites.requireRoot();
        Path socket = dir.resolve("dg.sock");
        TestPki pki = TestPki.create();
        Path pkiDir = dir.resolve("pki");
        pki.writeServerFiles(pkiDir);
        Path client = pki.writeClientBundle(pki.client("tester", "ops"), dir.resolve("client"));
        Map<ConfigKey, Object> flags = TestDaemon.tlsFlags(dir, pkiDir);
        flags.put(ConfigKey.HOSTS, List.of("tcp://127.0.0.1:0", "unix://" + socket));
        flags.putAll(extra);
        TestDaemon daemon = TestDaemon.start(flags, dir);
        CliSession unix = new CliSession(daemon, socket, dir.resolve("docker-config"), DockerCli.unixEnv(socket));
        unix.tlsEnv = DockerCli.tlsEnv("tcp://127.0.0.1:" + daemon.tcpPort(), client);
        return unix;
    }

    private Map<String, String> tlsEnv;

    /** The same daemon over mutual TLS (for a session started with TLS). */
    public CliSession overTls() {
        if (tlsEnv == null) {
            throw new IllegalStateException("started without TLS");
        }
        return new CliSession(daemon, socket, config, tlsEnv);
    }

    public Path socket() {
        return socket;
    }

    /** The environment the docker CLI gets in this session (DOCKER_HOST, and the TLS variables over TLS). */
    public Map<String, String> env() {
        return env;
    }

    public TestDaemon daemon() {
        return daemon;
    }

    public DockerCli.Result docker(String... args) throws Exception {
        return DockerCli.run(config, env, args);
    }

    /** The command with more environment (DOCKER_BUILDKIT=0, ...). */
    public DockerCli.Result dockerWith(Map<String, String> extra, String... args) throws Exception {
        Map<String, String> all = new java.util.HashMap<>(env);
        all.putAll(extra);
        return DockerCli.run(config, all, args);
    }

    /** The command with more environment and bytes on its standard input. */
    public DockerCli.Result dockerWith(Map<String, String> extra, byte[] input, String... args) throws Exception {
        Map<String, String> all = new java.util.HashMap<>(env);
        all.putAll(extra);
        return DockerCli.run(config, all, input, args);
    }

    /** Starts the command with more environment in the background; the caller ends it. */
    public Process dockerBackgroundWith(Map<String, String> extra, String... args) throws Exception {
        Map<String, String> all = new java.util.HashMap<>(env);
        all.putAll(extra);
        return DockerCli.start(config, all, args);
    }

    /** The command with bytes on its standard input. */
    public DockerCli.Result dockerWithInput(byte[] input, String... args) throws Exception {
        return DockerCli.run(config, env, input, args);
    }

    /** The command in a pseudo-terminal of 30 rows and 100 columns, typing each input after a pause. */
    public DockerCli.Result dockerInTerminal(List<String> typed, String... args) throws Exception {
        return DockerCli.runInTerminal(config, env, typed, args);
    }

    /** Starts the command in the background with its standard output to read; the caller ends it. */
    public Process dockerBackgroundReading(String... args) throws Exception {
        return DockerCli.start(config, env, true, args);
    }

    /** Starts the command in the background; the caller ends it. */
    public Process dockerBackground(String... args) throws Exception {
        return DockerCli.start(config, env, args);
    }

    /** Removes every container, running or not (between tests). */
    public void removeAllContainers() throws Exception {
        for (String id : ok("ps", "-aq").stdout().split("\\s+")) {
            if (!id.isBlank()) {
                ok("rm", "-f", id);
            }
        }
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
