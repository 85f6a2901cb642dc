package io.dockgate.gateway.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.gateway.Main;
import io.dockgate.gateway.testing.DockerCli;
import io.dockgate.gateway.testing.RawHttp;
import io.dockgate.gateway.testing.TlsClient;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Reload (file change, SIGHUP path), dry run, limits, refused handshakes in the audit, and the policy tools. */
class PolicyLifecycleTest extends AuthzFixtureTest {

    private static void awaitDecision(String who, String... args) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        DockerCli.Result r;
        do {
            r = f.as(who, args);
            if (r.exitCode() == 0) {
                return;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("still refused: " + r);
    }

    @Test
    void aChangedPolicyFileTakesEffectAndABrokenOneIsRefusedKeepingTheOld() throws Exception {
        String original = Files.readString(f.policy);
        try {
            assertThat(f.as("val", "create", "busybox", "true").stderr()).contains("no binding grants container.create");
            Files.writeString(f.policy, original.replace("roles: [viewer]\n", "roles: [viewer, lifecycle]\n"));
            awaitDecision("val", "create", "--name", "reloaded", "busybox", "true");
            f.audit().await("\"type\":\"policy\"", "\"event\":\"reloaded\"");

            Files.writeString(f.policy, original.replace("roles: [viewer]\n", "roles: [viewer, no-such-role]\n"));
            f.audit().await("\"event\":\"reload-refused\"", "unknown role");
            assertThat(f.as("val", "rm", "reloaded").exitCode()).as("the previous policy stays in force").isZero();

            Files.writeString(f.policy, original);
            f.daemon.daemon().reload().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS); // what SIGHUP does
            assertThat(f.as("val", "create", "busybox", "true").stderr()).contains("no binding grants container.create");
        } finally {
            Files.writeString(f.policy, original);
            f.daemon.daemon().reloadPolicy().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void dryRunAuditsWouldBeDenialsWithoutEnforcingThem() throws Exception {
        String original = Files.readString(f.policy);
        try {
            Files.writeString(f.policy, "mode: dry-run\n" + original);
            f.daemon.daemon().reloadPolicy().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertThat(f.daemon.daemon().authorizer().dryRun()).isTrue();
            assertThat(f.ok("val", "run", "--rm", "--name", "dry", "busybox", "echo", "ran")).isEqualTo("ran");
            String line = f.audit().await("\"operation\":\"container.create\"", "\"name\":\"val\"", "\"decision\":\"would-deny\"");
            assertThat(line).contains("no binding grants container.create");
            assertThat(f.ok("val", "info", "--format", "{{json .Warnings}}")).contains("dry-run");
        } finally {
            Files.writeString(f.policy, original);
            f.daemon.daemon().reloadPolicy().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        assertThat(f.daemon.daemon().authorizer().dryRun()).isFalse();
    }

    @Test
    void theRateOfAnIdentityIsLimited() throws Exception {
        List<Integer> statuses = new ArrayList<>();
        try (TlsClient c = TlsClient.connect(f.daemon.tcpPort(), f.pki.ca().certificate(), f.certs.get("hasty"), "TLSv1.3")) {
            for (int i = 0; i < 6; i++) {
                c.socket().getOutputStream().write("GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                statuses.add(RawHttp.status(RawHttp.readResponse(c.input())));
            }
        }
        assertThat(statuses.subList(0, 3)).containsOnly(200);
        assertThat(statuses).contains(429);
        f.audit().await("\"name\":\"hasty\"", "\"decision\":\"deny\"", "request rate limit of 1/s exceeded");
        Thread.sleep(3100); // the bucket refills at 1/s; docker version sends two requests
        assertThat(f.ok("hasty", "version", "--format", "{{.Server.APIVersion}}")).isEqualTo("1.50");
    }

    @Test
    void concurrentStreamsOfAnIdentityAreLimited() throws Exception {
        f.ok("alice", "run", "-d", "--name", "streamer", "busybox", "sh", "-c", "while true; do echo x; sleep 1; done");
        List<CompletableFuture<DockerCli.Result>> follows = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            follows.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return f.as("alice", "logs", "-f", "streamer");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (f.audit().count("\"operation\":\"container.logs\"", "\"name\":\"alice\"", "\"decision\":\"allow\"") < 3
                && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        DockerCli.Result fourth = f.as("alice", "logs", "-f", "streamer");
        assertThat(fourth.exitCode()).isNotZero();
        assertThat(fourth.stderr()).contains("limit of 3 concurrent streams reached");
        assertThat(f.ok("alice", "logs", "--tail", "1", "streamer")).isEqualTo("x"); // not a stream
        f.ok("alice", "rm", "-f", "streamer");
        for (CompletableFuture<DockerCli.Result> follow : follows) {
            follow.get(30, TimeUnit.SECONDS);
        }
        // the streams are released when they end
        f.ok("alice", "run", "-d", "--name", "streamer2", "busybox", "sh", "-c", "echo y; sleep 300");
        CompletableFuture<DockerCli.Result> again = CompletableFuture.supplyAsync(() -> {
            try {
                return f.as("alice", "logs", "-f", "streamer2");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(1000);
        f.ok("alice", "rm", "-f", "streamer2");
        assertThat(again.get(30, TimeUnit.SECONDS).stderr()).doesNotContain("concurrent streams");
    }

    @Test
    void refusedHandshakesAreAudited() throws Exception {
        var wrong = f.pki.wrongCaClient("intruder");
        try (TlsClient c = TlsClient.connect(f.daemon.tcpPort(), f.pki.ca().certificate(), wrong, "TLSv1.3")) {
            c.socket().getOutputStream().write("GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            c.input().read();
        } catch (Exception expected) {
            // the daemon refuses the certificate
        }
        String line = f.audit().await("\"type\":\"handshake\"", "intruder");
        assertThat(line).contains("\"decision\":\"deny\"", "\"reason\":");
    }

    private static String run(List<String> args, int expectedExit) {
        PrintStream out = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run(args.toArray(String[]::new));
        } finally {
            System.setOut(out);
        }
        String text = buffer.toString(StandardCharsets.UTF_8);
        assertThat(code).as(String.join(" ", args) + "\n" + text).isEqualTo(expectedExit);
        return text;
    }

    @Test
    void policyCheckAndExplain() throws Exception {
        String policy = f.policy.toString();
        assertThat(run(List.of("policy", "check", policy), 0)).contains("valid: 4 role(s), 6 binding(s), mode enforce",
                "operators (line 15)", "scope own (shared images: busybox:*), reads container data");
        Path broken = tmp.resolve("broken.yaml");
        Files.writeString(broken, "bindings:\n  - name: x\n    subjects: [{user: a}]\n    operations: [container.exec]\n    scope: everyone\n");
        assertThat(Main.run("policy", "check", broken.toString())).isEqualTo(3);

        Path body = tmp.resolve("create.json");
        Files.writeString(body, "{\"Image\":\"busybox\",\"HostConfig\":{\"Privileged\":true}}");
        String denied = run(List.of("policy", "explain", "--policy", policy, "--user", "alice", "--group", "ops",
                "POST", "/v1.45/containers/create", "--body", body.toString()), 1);
        assertThat(denied).contains("operation: container.create (write)", "decision: deny", "rule: operators",
                "reason: privileged containers are not allowed (binding operators)");
        Files.writeString(body, "{\"Image\":\"busybox\"}");
        String allowed = run(List.of("policy", "explain", "--policy", policy, "--user", "alice", "--group", "ops",
                "POST", "/v1.45/containers/create", "--body", body.toString()), 0);
        assertThat(allowed).contains("decision: allow", "rule: operators", "scope: own");
        String viewer = run(List.of("policy", "explain", "--policy", policy, "--user", "val", "--group", "viewers",
                "GET", "/containers/x/logs"), 1);
        assertThat(viewer).contains("operation: container.logs (exfiltration)", "rule: default-deny",
                "no binding grants container.logs to tls caller \"val\"");
        Path certFile = tmp.resolve("clients/ci-runner/cert.pem");
        String ci = run(List.of("policy", "explain", "--policy", policy, "--cert", certFile.toString(), "GET", "/v1.45/containers/json"), 0);
        assertThat(ci).contains("decision: allow", "rule: ci", "owner key tls:ci-runner");
        assertThat(run(List.of("policy", "explain", "--policy", policy, "--uid", "0", "DELETE", "/images/busybox"), 0)).contains("rule: admins");
        assertThat(run(List.of("policy", "explain", "--policy", policy, "--uid", "0", "POST", "/no/such/route"), 1))
                .contains("no such route");
    }
}
