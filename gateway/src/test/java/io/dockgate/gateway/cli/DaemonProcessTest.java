package io.dockgate.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.certs.testing.TestPki;
import io.dockgate.gateway.Main;
import io.dockgate.gateway.testing.DockerCli;
import io.dockgate.gateway.testing.RawHttp;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code dockgate daemon} as a separate process, as an operator runs it: configuration errors stop the
 * start with exit code 3 and a message naming file and key; a running daemon serves the docker CLI,
 * reloads on SIGHUP (and reopens a rotated audit log), refuses a second instance on the same pid file, and cleans up on SIGTERM.
 */
class DaemonProcessTest {
    @TempDir
    Path tmp;

    private Process daemon(Path log, String... args) throws IOException {
        return daemon(List.of(), log, args);
    }

    /** The daemon as a process, behind a launcher prefix (nohup) if any. */
    private Process daemon(List<String> prefix, Path log, String... args) throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "daemon"));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static String awaitLog(Path log, String text, Process p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            String content = Files.readString(log);
            if (content.contains(text)) {
                return content;
            }
            if (!p.isAlive()) {
                throw new AssertionError("daemon exited with " + p.exitValue() + " before logging \"" + text + "\":\n" + content);
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no \"" + text + "\" in the daemon log:\n" + Files.readString(log));
    }

    private String[] roots() {
        return new String[] {"--data-root", tmp.resolve("data").toString(), "--exec-root", tmp.resolve("exec").toString(),
                "--pidfile", tmp.resolve("dockgate.pid").toString(), "--bridge", "none", "--iptables", "false"};
    }

    @Test
    void unknownConfigKeyStopsTheStartNamingFileAndKey() throws Exception {
        Path config = tmp.resolve("daemon.json");
        Files.writeString(config, "{\n  \"hosts\": [\"unix:///tmp/x.sock\"],\n  \"tls-verify\": true\n}\n");
        Path log = tmp.resolve("log");
        Process p = daemon(log, "--config-file", config.toString());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(ExitCodes.CONFIG);
        assertThat(Files.readString(log)).contains("configuration error: " + config + ":3: key \"tls-verify\" is not a known configuration option");
    }

    @Test
    void plainTcpOnAPublicAddressIsRefused() throws Exception {
        Path log = tmp.resolve("log");
        Process p = daemon(log, "-H", "tcp://0.0.0.0:2375", "--config-file", emptyConfig().toString());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(ExitCodes.CONFIG);
        assertThat(Files.readString(log)).contains("a TCP listener requires mutual TLS");
    }

    private Path emptyConfig() throws IOException {
        Path config = tmp.resolve("empty.json");
        Files.writeString(config, "{}");
        return config;
    }

    @Test
    void runsServesReloadsOnSighupRefusesASecondInstanceAndCleansUpOnSigterm() throws Exception {
        TestPki pki = TestPki.create();
        Path pkiDir = tmp.resolve("pki");
        Files.createDirectories(pkiDir);
        pki.writeServerFiles(pkiDir);
        Path socket = tmp.resolve("dockgate.sock");
        Path config = tmp.resolve("daemon.json");
        Files.writeString(config, """
                {
                  "hosts": ["unix://%s", "tcp://127.0.0.1:0"],
                  "tlsverify": true,
                  "tlscacert": "%s",
                  "tlscert": "%s",
                  "tlskey": "%s",
                  "tlscrl": "%s",
                  "group": "daemon"
                }
                """.formatted(socket, pkiDir.resolve("ca.pem"), pkiDir.resolve("server-cert.pem"),
                pkiDir.resolve("server-key.pem"), pkiDir.resolve("crl.pem")));
        Path log = tmp.resolve("daemon.log");
        Process p = daemon(log, concat(roots(), "--config-file", config.toString()));
        try {
            awaitLog(log, "running, listening on", p);
            assertThat(Files.readString(tmp.resolve("dockgate.pid")).trim()).isEqualTo(Long.toString(p.pid()));
            DockerCli.Result version = DockerCli.run(tmp.resolve("docker-config"), DockerCli.unixEnv(socket), "version");
            assertThat(version.exitCode()).as(version.toString()).isZero();

            // rotation as logrotate does it: move the audit log, then SIGHUP
            Path audit = tmp.resolve("data/audit/audit.log");
            Path rotated = tmp.resolve("data/audit/audit.log.1");
            Files.move(audit, rotated);
            new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).start().waitFor();
            assertThat(awaitLog(log, "SIGHUP: reloading", p)).doesNotContain("SIGHUP is ignored");
            awaitLog(log, "TLS material reloaded", p);
            awaitLog(log, "audit log " + audit + " reopened", p);
            assertThat(RawHttp.status(RawHttp.unixGet(socket, "/_ping"))).isEqualTo(200);
            assertThat(Files.readString(rotated)).contains("\"operation\":\"system.version\"");
            long deadline = System.currentTimeMillis() + 5000;
            while (!Files.readString(audit).contains("\"operation\":\"system.ping\"") && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
            }
            assertThat(Files.readString(audit)).contains("\"operation\":\"system.ping\"").doesNotContain("system.version");
            var chain = io.dockgate.gateway.audit.AuditVerifier.verify(List.of(rotated, audit), java.util.Optional.empty());
            assertThat(chain.ok()).as(chain.problem().orElse("")).isTrue();

            Path secondLog = tmp.resolve("second.log");
            Process second = daemon(secondLog, concat(roots(), "-H", "unix://" + tmp.resolve("other.sock"),
                    "--config-file", emptyConfig().toString()));
            assertThat(second.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(second.exitValue()).isEqualTo(ExitCodes.CONFIG);
            assertThat(Files.readString(secondLog)).contains("pid file", "names the running process " + p.pid());
        } finally {
            p.destroy();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(Files.readString(log)).contains("dockgate stopped");
        assertThat(socket).doesNotExist();
        assertThat(tmp.resolve("dockgate.pid")).doesNotExist();
    }

    @Test
    void underNohupTheDaemonSaysThatSighupCannotReload() throws Exception {
        Path log = tmp.resolve("nohup.log");
        Process p = daemon(List.of("nohup"), log, concat(roots(), "-H", "unix://" + tmp.resolve("nohup.sock"),
                "--config-file", emptyConfig().toString()));
        try {
            awaitLog(log, "running, listening on", p);
            assertThat(Files.readString(log)).contains("SIGHUP is ignored in this process (started under nohup?)");
        } finally {
            p.destroy();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    private static String[] concat(String[] a, String... b) {
        List<String> all = new ArrayList<>(List.of(a));
        all.addAll(List.of(b));
        return all.toArray(new String[0]);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "daemon", "certs", "certs init", "certs client", "certs revoke", "certs list", "certs crl"})
    void everyCommandHasHelp(String command) {
        List<String> args = new ArrayList<>(command.isEmpty() ? List.of() : List.of(command.split(" ")));
        args.add("--help");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run(args.toArray(new String[0]));
        } finally {
            System.setOut(saved);
        }
        assertThat(code).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("Usage: dockgate" + (command.isEmpty() ? "" : " " + command));
    }

    @Test
    void usageErrorsExitWith2() {
        assertThat(Main.run("certs", "init")).isEqualTo(ExitCodes.USAGE);
        assertThat(Main.run("daemon", "--no-such-flag")).isEqualTo(ExitCodes.USAGE);
        assertThat(Main.run("certs", "client", "--dir", tmp.toString(), "--name", "x", "--out", tmp.toString(), "--days", "1",
                "--hours", "2")).isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void certsCommandsFailWithoutAPki() {
        assertThat(Main.run("certs", "list", "--dir", tmp.resolve("none").toString())).isEqualTo(ExitCodes.FAILURE);
        assertThat(Main.run("certs", "init", "--dir", tmp.resolve("pki").toString(), "--key-type", "dsa")).isEqualTo(ExitCodes.USAGE);
    }
}
