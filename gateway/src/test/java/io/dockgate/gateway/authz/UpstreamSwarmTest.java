package io.dockgate.gateway.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.gateway.testing.DockerCli;
import java.nio.file.Files;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Swarm routes in upstream mode, in front of a private dockerd 20.10 made a single-node swarm manager
 * (on 127.0.0.1): each route an operation of its own, denied unless granted; a service's tasks judged
 * with the container constraints (bind mounts, capabilities, security options, published ports, the
 * networks); a secret's payload never in the audit log.
 */
@AuthzFixtureTest.UpstreamMode
class UpstreamSwarmTest extends AuthzFixtureTest {

    private static void denied(DockerCli.Result r, String message) {
        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).as(r.toString()).contains(message);
    }

    @AfterAll
    static void leave() throws Exception {
        if (f != null) {
            f.root("swarm", "leave", "--force");
            f.root("network", "rm", "docker_gwbridge"); // the bridge swarm mode made on the host stays after leaving
            new ProcessBuilder("ip", "link", "del", "docker_gwbridge").start().waitFor();
        }
    }

    @Test
    void servicesAreJudgedAsTheContainersTheyRun() throws Exception {
        DockerCli.Result init = f.root("swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", "127.0.0.1:0");
        assertThat(init.exitCode()).as(init.toString()).isZero();
        denied(f.as("val", "swarm", "leave", "--force"), "no binding grants swarm.manage");
        denied(f.as("val", "service", "ls"), "no binding grants service.list");

        denied(f.as("alice", "service", "create", "--detach", "--name", "s-etc", "--mount", "type=bind,src=/etc,dst=/x", "busybox",
                "sleep", "300"), "host path /etc is not allowed for bind mounts");
        denied(f.as("alice", "service", "create", "--detach", "--name", "s-cap", "--cap-add", "SYS_ADMIN", "busybox", "sleep", "300"),
                "SYS_ADMIN");
        denied(f.as("alice", "service", "create", "--detach", "--name", "s-port", "--publish", "8080:80", "busybox", "sleep", "300"),
                "(service tasks)");
        denied(f.as("alice", "service", "create", "--detach", "--name", "s-img", "--mount",
                "type=bind,src=" + f.shared + ",dst=/s", "busybox", "true"), "may only be mounted read-only");

        String id = f.ok("alice", "service", "create", "--detach", "--name", "alice-svc", "--mount",
                "type=bind,src=" + f.shared + ",dst=/s,readonly", "busybox", "sleep", "300");
        assertThat(id).isNotEmpty();
        assertThat(f.ok("alice", "service", "ls", "--format", "{{.Name}}")).contains("alice-svc");
        denied(f.as("alice", "service", "update", "--detach", "--cap-add", "NET_ADMIN", "alice-svc"), "NET_ADMIN");
        f.ok("alice", "service", "update", "--detach", "--env-add", "A=1", "alice-svc");
        assertThat(f.root("service", "inspect", "-f", "{{.Spec.TaskTemplate.ContainerSpec.Env}}", "alice-svc").stdout()).contains("A=1");

        // a secret's payload is in its body, which the audit log never holds
        java.nio.file.Path payload = Files.writeString(tmp.resolve("secret.txt"), "s3cr3t-payload-42");
        f.root("secret", "create", "dbpass", payload.toString());
        assertThat(f.root("secret", "ls", "--format", "{{.Name}}").stdout()).contains("dbpass");
        assertThat(f.audit().await("\"operation\":\"secret.create\"")).contains("\"decision\":\"allow\"");
        assertThat(Files.readString(f.audit().file())).doesNotContain("s3cr3t-payload-42")
                .doesNotContain(java.util.Base64.getEncoder().encodeToString("s3cr3t-payload-42".getBytes()));
        f.root("secret", "rm", "dbpass");
        f.ok("alice", "service", "rm", "alice-svc");
    }
}
