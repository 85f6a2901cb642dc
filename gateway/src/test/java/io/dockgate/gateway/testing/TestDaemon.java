package io.dockgate.gateway.testing;

import io.dockgate.config.ConfigKey;
import io.dockgate.config.DaemonConfig;
import io.dockgate.config.DaemonConfigLoader;
import io.dockgate.gateway.Daemon;
import io.dockgate.gateway.listen.HandshakeRejection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * An in-process daemon for tests: its own data, exec and pid paths under a temporary directory, TCP on
 * 127.0.0.1 with a free port (port 0), and a record of refused handshakes.
 */
public final class TestDaemon implements AutoCloseable {
    private final Daemon daemon;
    public final List<HandshakeRejection> rejections = new CopyOnWriteArrayList<>();

    private TestDaemon(Daemon daemon) {
        this.daemon = daemon;
        daemon.onHandshakeRejected(rejections::add);
    }

    /** Flags for a daemon rooted in dir; add listeners and TLS flags to it. */
    public static Map<ConfigKey, Object> baseFlags(Path dir) {
        Map<ConfigKey, Object> flags = new EnumMap<>(ConfigKey.class);
        flags.put(ConfigKey.DATA_ROOT, dir.resolve("data").toString());
        flags.put(ConfigKey.EXEC_ROOT, dir.resolve("exec").toString());
        flags.put(ConfigKey.PIDFILE, dir.resolve("dockgate.pid").toString());
        // tests that use networks name a bridge of their own, and firewall rules when they need them
        flags.put(ConfigKey.BRIDGE, "none");
        flags.put(ConfigKey.IPTABLES, false);
        return flags;
    }

    /** Flags for mutual TLS on 127.0.0.1 with the files TestPki.writeServerFiles wrote into pkiDir. */
    public static Map<ConfigKey, Object> tlsFlags(Path dir, Path pkiDir) {
        Map<ConfigKey, Object> flags = baseFlags(dir);
        flags.put(ConfigKey.HOSTS, List.of("tcp://127.0.0.1:0"));
        flags.put(ConfigKey.TLS_VERIFY, true);
        flags.put(ConfigKey.TLS_CA_CERT, pkiDir.resolve("ca.pem").toString());
        flags.put(ConfigKey.TLS_CERT, pkiDir.resolve("server-cert.pem").toString());
        flags.put(ConfigKey.TLS_KEY, pkiDir.resolve("server-key.pem").toString());
        flags.put(ConfigKey.TLS_CRL, pkiDir.resolve("crl.pem").toString());
        return flags;
    }

    public static TestDaemon start(Map<ConfigKey, Object> flags, Path dir) throws Exception {
        Path emptyConfig = dir.resolve("daemon.json");
        java.nio.file.Files.writeString(emptyConfig, "{}");
        DaemonConfig config = DaemonConfigLoader.load(flags, Optional.of(emptyConfig));
        Daemon daemon = new Daemon(config);
        TestDaemon test = new TestDaemon(daemon);
        daemon.start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        return test;
    }

    /** The daemon's audit log. */
    public AuditTail audit() {
        return new AuditTail(daemon.auditFile());
    }

    public Daemon daemon() {
        return daemon;
    }

    /** The bound TCP port of the first TCP listener. */
    public int tcpPort() {
        for (String a : daemon.addresses()) {
            if (a.startsWith("tcp://")) {
                return Integer.parseInt(a.substring(a.lastIndexOf(':') + 1));
            }
        }
        throw new IllegalStateException("no TCP listener in " + daemon.addresses());
    }

    public String tcpAddress() {
        return "tcp://127.0.0.1:" + tcpPort();
    }

    public List<HandshakeRejection> rejectionsSnapshot() {
        return new ArrayList<>(rejections);
    }

    @Override
    public void close() throws Exception {
        daemon.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
