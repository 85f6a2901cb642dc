package io.dockgate.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.CliSession;
import io.dockgate.gateway.testing.DockerCli;
import io.dockgate.gateway.testing.TestNetworking;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Debian's docker-compose 1.29 against dockgate, over mutual TLS and the Unix socket: a two-service
 * project whose client reaches the web service by name and whose web port is published; up (twice: the
 * second finds everything up to date, the network's labels and options read back as given), ps, logs,
 * exec, down (containers and the project's network removed).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ComposeTest {
    private static final String BRIDGE = "dgcomp0";

    @TempDir
    static Path tmp;
    private CliSession cli;

    @BeforeAll
    void start() throws Exception {
        cli = CliSession.startWithTls(tmp, TestNetworking.flags(BRIDGE, "172.31.215.1/24"));
        cli.ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox");
    }

    @AfterAll
    void stop() throws Exception {
        TestNetworking.removeNetworksAndClose(cli, BRIDGE);
    }

    private DockerCli.Result compose(Map<String, String> env, Path dir, String... args) throws IOException, InterruptedException {
        return compose("dgtest", env, dir, args);
    }

    private DockerCli.Result compose(String project, Map<String, String> env, Path dir, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("docker-compose", "--no-ansi", "-p", project));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        // requests lets REQUESTS_CA_BUNDLE (set on some machines) override the CA docker-py gives it (requests#3829),
        // as it would against dockerd: the project's CA is the one to trust here
        pb.environment().remove("REQUESTS_CA_BUNDLE");
        pb.environment().remove("CURL_CA_BUNDLE");
        pb.environment().putAll(env);
        Path out = Files.createTempFile(tmp, "compose", ".out");
        Path err = Files.createTempFile(tmp, "compose", ".err");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("docker-compose " + String.join(" ", args) + " did not finish");
        }
        return new DockerCli.Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void upPsLogsExecAndDown() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path dir = Files.createDirectories(tmp.resolve("project"));
        Files.writeString(dir.resolve("docker-compose.yml"), """
                version: "3"
                services:
                  web:
                    image: busybox
                    command: httpd -f -p 80 -h /etc
                    ports:
                      - "127.0.0.1:%d:80"
                  client:
                    image: busybox
                    command: sleep 300
                    depends_on: [web]
                """.formatted(port));
        Map<String, String> tls = cli.overTls().env();
        Map<String, String> unix = cli.env();
        DockerCli.Result up = compose(tls, dir, "up", "-d");
        assertThat(up.exitCode()).as(up.toString()).isZero();
        DockerCli.Result ps = compose(unix, dir, "ps");
        assertThat(ps.stdout()).contains("dgtest_web_1", "dgtest_client_1", "127.0.0.1:" + port + "->80/tcp");
        DockerCli.Result byName = compose(unix, dir, "exec", "-T", "client", "sh", "-c", "timeout 5 wget -q -O - http://web/passwd; exit $?");
        assertThat(byName.stdout()).as(byName.toString()).startsWith("root:x:0:0");
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.getOutputStream().write("GET /group HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).contains("root:x:0:");
        }
        DockerCli.Result logs = compose(unix, dir, "logs", "--no-color", "web");
        assertThat(logs.exitCode()).as(logs.toString()).isZero();
        DockerCli.Result again = compose(tls, dir, "up", "-d");
        assertThat(again.stderr()).as(again.toString()).contains("dgtest_web_1 is up-to-date", "dgtest_client_1 is up-to-date");
        DockerCli.Result down = compose(tls, dir, "down");
        assertThat(down.exitCode()).as(down.toString()).isZero();
        assertThat(down.stderr()).contains("Removing network dgtest_default");
        assertThat(cli.ok("ps", "-aq").stdout().trim()).isEmpty();
        assertThat(cli.ok("network", "ls", "--format", "{{.Name}}").stdout()).doesNotContain("dgtest_default");
    }

    @Test
    void aServiceWaitsForItsDependencyToBeHealthy() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("healthy"));
        Files.writeString(dir.resolve("docker-compose.yml"), """
                version: "2.4"
                services:
                  db:
                    image: busybox
                    command: sh -c "sleep 3; touch /tmp/up; sleep 300"
                    healthcheck:
                      test: ["CMD", "test", "-f", "/tmp/up"]
                      interval: 1s
                      retries: 30
                  app:
                    image: busybox
                    command: sleep 300
                    depends_on:
                      db:
                        condition: service_healthy
                """);
        Map<String, String> unix = cli.env();
        try {
            DockerCli.Result up = compose("dghealth", unix, dir, "up", "-d");
            assertThat(up.exitCode()).as(up.toString()).isZero();
            com.fasterxml.jackson.databind.JsonNode health = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(cli.ok("inspect", "-f", "{{json .State.Health}}", "dghealth_db_1").stdout());
            assertThat(health.get("Status").asText()).isEqualTo("healthy");
            java.time.Instant firstHealthy = null;
            for (com.fasterxml.jackson.databind.JsonNode r : health.get("Log")) {
                if (r.get("ExitCode").asInt() == 0 && firstHealthy == null) {
                    firstHealthy = java.time.Instant.parse(r.get("End").asText());
                }
            }
            java.time.Instant appStarted = java.time.Instant.parse(cli.ok("inspect", "-f", "{{json .State.StartedAt}}", "dghealth_app_1")
                    .stdout().trim().replace("\"", ""));
            assertThat(appStarted).as("the app started once its database was healthy").isAfter(firstHealthy);
        } finally {
            DockerCli.Result down = compose("dghealth", unix, dir, "down");
            assertThat(down.exitCode()).as(down.toString()).isZero();
        }
    }

    @Test
    void composeBuildsAServiceFromItsDockerfile() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("built"));
        Files.writeString(dir.resolve("Dockerfile"), "FROM busybox\nARG GREETING=hi\nRUN echo \"$GREETING from compose\" > /greeting\n"
                + "CMD [\"sh\", \"-c\", \"cat /greeting; sleep 300\"]\n");
        Files.writeString(dir.resolve("docker-compose.yml"), """
                version: "3"
                services:
                  app:
                    build:
                      context: .
                      args:
                        GREETING: hello
                    image: dgbuilt:latest
                """);
        Map<String, String> unix = cli.env();
        try {
            DockerCli.Result build = compose("dgbuild", unix, dir, "build");
            assertThat(build.exitCode()).as(build.toString()).isZero();
            assertThat(build.stdout() + build.stderr()).contains("Successfully tagged dgbuilt:latest");
            DockerCli.Result up = compose("dgbuild", unix, dir, "up", "-d");
            assertThat(up.exitCode()).as(up.toString()).isZero();
            String logs = "";
            for (int i = 0; i < 50 && !logs.contains("hello from compose"); i++) {
                Thread.sleep(100);
                logs = cli.ok("logs", "dgbuild_app_1").stdout();
            }
            assertThat(logs).contains("hello from compose");
        } finally {
            compose("dgbuild", unix, dir, "down");
        }
    }
}
