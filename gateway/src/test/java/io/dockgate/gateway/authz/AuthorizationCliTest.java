package io.dockgate.gateway.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.gateway.testing.DockerCli;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The policy through the real docker CLI over mutual TLS: an operator who may run, stop, exec and read
 * logs of their own containers only; a read-only viewer; a CI identity limited to one image pattern
 * with resource limits required. Every decision lands in the audit log.
 */
class AuthorizationCliTest extends AuthzFixtureTest {

    private static void denied(DockerCli.Result r, String message) {
        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).contains(message);
    }

    @Test
    void anOperatorRunsStopsExecsAndReadsLogsOfTheirOwnContainersOnly() throws Exception {
        String mine = f.ok("alice", "run", "-d", "--name", "alice-web", "busybox", "sh", "-c", "echo hello from alice; sleep 300");
        String bobs = f.ok("bob", "run", "-d", "--name", "bob-db", "-e", "SECRET=bob-password", "busybox", "sleep", "300");
        assertThat(f.ok("alice", "exec", "alice-web", "echo", "inside")).isEqualTo("inside");
        assertThat(f.ok("alice", "logs", "alice-web")).contains("hello from alice");
        // the owner is dockgate's record, not a label the client reads back; admins filter by it
        assertThat(f.ok("alice", "inspect", "-f", "{{json .Config.Labels}}", "alice-web")).isEqualTo("{}");
        assertThat(f.root("ps", "-a", "--filter", "owner=tls:alice", "--format", "{{.Names}}").stdout().trim()).isEqualTo("alice-web");

        // others' containers do not exist for alice: not in lists, 404 for every operation, not by ID prefix
        assertThat(f.ok("alice", "ps", "-a", "--format", "{{.Names}}")).isEqualTo("alice-web");
        assertThat(f.ok("bob", "ps", "-a", "--format", "{{.Names}}")).isEqualTo("bob-db");
        assertThat(f.root("ps", "-a", "--format", "{{.Names}}").stdout()).contains("alice-web", "bob-db");
        for (String[] cmd : new String[][] {{"inspect", "bob-db"}, {"stop", "bob-db"}, {"logs", "bob-db"}, {"rm", "-f", "bob-db"},
                {"exec", "bob-db", "env"}, {"kill", bobs.substring(0, 12)}, {"cp", "bob-db:/etc/passwd", tmp.toString()},
                {"export", "bob-db"}, {"top", "bob-db"}, {"restart", "bob-db"}}) {
            DockerCli.Result r = f.as("alice", cmd);
            if (!cmd[0].equals("rm")) { // rm -f exits 0 on "No such container", as with dockerd
                assertThat(r.exitCode()).as(String.join(" ", cmd) + "\n" + r).isNotZero();
            }
            assertThat(r.stderr()).as(String.join(" ", cmd)).containsIgnoringCase("No such");
            assertThat(r.stderr()).doesNotContain("authorization");
        }
        assertThat(f.root("inspect", "-f", "{{.State.Status}}", "bob-db").stdout().trim()).isEqualTo("running");
        DockerCli.Result taken = f.as("alice", "create", "--name", "bob-db", "busybox", "true");
        assertThat(taken.stderr()).contains("The container name \"/bob-db\" is already in use").doesNotContain(bobs.substring(0, 12));
        String denied = f.audit().await("\"operation\":\"container.stop\"", "\"target\":\"bob-db\"", "\"name\":\"alice\"");
        assertThat(denied).contains("\"decision\":\"deny\"", "\"rule\":\"operators\"", "the container belongs to another owner");

        // what the operator binding does not allow
        denied(f.as("alice", "run", "--rm", "--privileged", "busybox", "true"),
                "authorization denied by dockgate: privileged containers are not allowed (binding operators)");
        denied(f.as("alice", "run", "--rm", "-v", "/etc:/host-etc", "busybox", "true"), "host path /etc is not allowed for bind mounts");
        denied(f.as("alice", "run", "--rm", "-v", f.shared + ":/data", "busybox", "true"), "may only be mounted read-only");
        denied(f.as("alice", "run", "--rm", "--mount", "type=bind,src=" + f.shared.resolve("etc-link") + ",dst=/x,readonly",
                "busybox", "true"), "is not allowed for bind mounts");
        assertThat(f.ok("alice", "run", "--rm", "-v", f.shared + ":/data:ro", "busybox", "cat", "/data/data.txt")).isEqualTo("shared data");
        denied(f.as("alice", "exec", "--privileged", "alice-web", "true"), "privileged exec is not allowed");
        denied(f.as("alice", "rmi", "other:1"), "authorization denied by dockgate: no binding grants image.delete to tls caller \"alice\"");

        // exec output and env stay readable for the owner; the viewer sees the container without its env
        assertThat(f.ok("alice", "stop", "-t", "1", "alice-web")).isEqualTo("alice-web");
        assertThat(f.ok("alice", "rm", "alice-web")).isEqualTo("alice-web");
        assertThat(f.ok("val", "inspect", "-f", "{{.Config.Env}}", "bob-db")).contains("SECRET=<redacted>").doesNotContain("bob-password");
        assertThat(f.root("inspect", "-f", "{{.Config.Env}}", "bob-db").stdout()).contains("SECRET=bob-password");
        f.root("rm", "-f", mine, bobs);
    }

    @Test
    void anIdPrefixOthersContainersShareNamesTheCallersOwnWhenItHasOneSo() throws Exception {
        String mine = f.ok("alice", "create", "busybox", "true");
        String prefix = mine.substring(0, 1);
        java.util.List<String> roots = new java.util.ArrayList<>();
        try {
            // the administrator's containers until one begins as alice's does (1 in 16 each)
            while (roots.stream().noneMatch(id -> id.startsWith(prefix))) {
                assertThat(roots).as("no container of 64 began with " + prefix).hasSizeLessThan(64);
                roots.add(f.root("create", "busybox", "true").stdout().trim());
            }
            assertThat(f.ok("alice", "container", "inspect", "-f", "{{.Id}}", prefix)).isEqualTo(mine);
            f.ok("alice", "commit", prefix, "alice-by-prefix:1");
            assertThat(f.ok("alice", "rm", prefix)).isEqualTo(prefix);
            assertThat(f.as("alice", "container", "inspect", prefix).stderr()).contains("No such");
            // bob has none that begins so: the prefix is missing to him, whoever's containers begin so
            DockerCli.Result bobs = f.as("bob", "container", "inspect", prefix);
            assertThat(bobs.exitCode()).isNotZero();
            assertThat(bobs.stderr()).contains("No such").doesNotContain("Multiple");
        } finally {
            f.root("rm", "-f", mine);
            if (!roots.isEmpty()) {
                java.util.List<String> rm = new java.util.ArrayList<>(java.util.List.of("rm", "-f"));
                rm.addAll(roots);
                f.root(rm.toArray(String[]::new));
            }
        }
    }

    @Test
    void anOperatorSharesAndLinksTheirOwnContainersOnly() throws Exception {
        f.ok("alice", "network", "create", "alicelinks");
        String bobs = f.ok("bob", "run", "-d", "--name", "bob-side", "busybox", "sleep", "300");
        try {
            f.ok("alice", "run", "-d", "--name", "alice-db", "--network", "alicelinks", "busybox", "sleep", "300");
            String hostname = f.ok("alice", "inspect", "-f", "{{.Config.Hostname}}", "alice-db");
            assertThat(f.ok("alice", "run", "--rm", "--network", "container:alice-db", "busybox", "hostname")).isEqualTo(hostname);
            String ip = f.ok("alice", "inspect", "-f", "{{.NetworkSettings.Networks.alicelinks.IPAddress}}", "alice-db");
            assertThat(f.ok("alice", "run", "--rm", "--network", "alicelinks", "--link", "alice-db:db", "busybox", "nslookup", "db",
                    "127.0.0.11")).contains("Address: " + ip);
            denied(f.as("alice", "run", "--rm", "--network", "container:bob-side", "busybox", "true"), "joins a container that is not yours");
            denied(f.as("alice", "run", "--rm", "--network", "alicelinks", "--link", "bob-side:x", "busybox", "true"), "is not yours");
        } finally {
            f.root("rm", "-f", "alice-db", bobs);
            f.root("network", "rm", "alicelinks");
        }
    }

    @Test
    void aViewerReadsButChangesNothingAndReadsNoData() throws Exception {
        f.root("run", "-d", "--name", "shown", "busybox", "sh", "-c", "echo secret output; sleep 300");
        assertThat(f.ok("val", "ps", "--format", "{{.Names}}")).contains("shown");
        assertThat(f.ok("val", "images", "--format", "{{.Repository}}:{{.Tag}}")).contains("busybox:latest");
        assertThat(f.ok("val", "inspect", "-f", "{{.State.Running}}", "shown")).isEqualTo("true");
        denied(f.as("val", "logs", "shown"), "authorization denied by dockgate: no binding grants container.logs to tls caller \"val\"");
        denied(f.as("val", "run", "--rm", "busybox", "true"), "no binding grants container.create");
        denied(f.as("val", "stop", "shown"), "no binding grants container.stop");
        denied(f.as("val", "exec", "shown", "true"), "no binding grants container.exec");
        denied(f.as("val", "cp", "shown:/etc/passwd", tmp.toString()), "no binding grants container.archive");
        denied(f.as("val", "export", "shown"), "no binding grants container.export");
        denied(f.as("val", "attach", "--no-stdin", "shown"), "unable to upgrade to tcp, received 403");
        f.audit().await("\"operation\":\"container.attach\"", "\"name\":\"val\"", "\"decision\":\"deny\"");
        // nobody in the policy: not even ping
        denied(f.as("mallory", "ps"), "authorization denied by dockgate: no binding grants");
        f.root("rm", "-f", "shown");
    }

    @Test
    void theCiIdentityRunsOnlyItsImageWithLimitsAndNotAsRoot() throws Exception {
        assertThat(f.ok("ci-runner", "run", "--rm", "-m", "128m", "--pids-limit", "50", "-u", "1000:1000", "busybox", "id", "-u"))
                .isEqualTo("1000");
        denied(f.as("ci-runner", "run", "--rm", "--pids-limit", "50", "-u", "1000", "busybox", "true"), "a memory limit is required");
        denied(f.as("ci-runner", "run", "--rm", "-m", "1g", "--pids-limit", "50", "-u", "1000", "busybox", "true"),
                "memory limit 1073741824 is over the maximum 268435456");
        denied(f.as("ci-runner", "run", "--rm", "-m", "128m", "-u", "1000", "busybox", "true"), "a pids limit is required");
        denied(f.as("ci-runner", "run", "--rm", "-m", "128m", "--pids-limit", "50", "busybox", "true"), "running as root is not allowed");
        for (String user : new String[] {"0", "00", "root", "0:0", "root:root", "+0", "toor"}) {
            denied(f.as("ci-runner", "run", "--rm", "-m", "128m", "--pids-limit", "50", "-u", user, "busybox", "true"),
                    "running as root is not allowed");
        }
        denied(f.as("ci-runner", "run", "--rm", "-m", "128m", "--pids-limit", "50", "-u", "1000", "other:1", "true"),
                "image other:1 is not allowed (allowed: busybox:*, 127.0.0.1:*/ci/*)");
        String otherId = f.root("image", "inspect", "-f", "{{.Id}}", "other:1").stdout().trim();
        assertThat(otherId).startsWith("sha256:");
        // other:1 and busybox:latest are the same image: allowed through its busybox tag, by name or by ID
        assertThat(f.ok("ci-runner", "run", "--rm", "-m", "128m", "--pids-limit", "50", "-u", "1000", otherId.substring(7, 19), "true"))
                .isEmpty();
        java.nio.file.Files.createDirectories(tmp.resolve("untrusted"));
        f.root("import", io.dockgate.engine.testing.TestImages.busyboxTar(tmp.resolve("untrusted")).toString(), "untrusted:1");
        String untrusted = f.root("image", "inspect", "-f", "{{.Id}}", "untrusted:1").stdout().trim();
        denied(f.as("ci-runner", "run", "--rm", "-m", "128m", "--pids-limit", "50", "-u", "1000", untrusted, "true"), "is not allowed");

        // quota: two containers at once
        f.ok("ci-runner", "create", "-m", "64m", "--pids-limit", "10", "-u", "1000", "--name", "ci-1", "busybox", "true");
        f.ok("ci-runner", "create", "-m", "64m", "--pids-limit", "10", "-u", "1000", "--name", "ci-2", "busybox", "true");
        denied(f.as("ci-runner", "create", "-m", "64m", "--pids-limit", "10", "-u", "1000", "busybox", "true"), "container quota of 2 reached");
        f.ok("ci-runner", "rm", "ci-1", "ci-2");
        denied(f.as("ci-runner", "update", "--pids-limit", "50", "ci-missing"), "No such container");
        denied(f.as("ci-runner", "update", "--pids-limit", "500", "ci-missing"), "No such container"); // missing before any constraint
        f.ok("ci-runner", "create", "-m", "64m", "--pids-limit", "10", "-u", "1000", "--name", "ci-3", "busybox", "true");
        denied(f.as("ci-runner", "update", "--pids-limit", "500", "ci-3"), "pids limit 500 is over the maximum 100");
        f.ok("ci-runner", "rm", "ci-3");
    }

    @Test
    void theCiIdentityLogsInAndPushesOnlyWhereItsBindingAllows() throws Exception {
        try (io.dockgate.gateway.testing.Registry registry = io.dockgate.gateway.testing.Registry.startWithPassword(
                tmp.resolve("ci-registry"), "ci", "ci-secret")) {
            String host = registry.host();
            assertThat(f.ok("ci-runner", "login", "-u", "ci", "-p", "ci-secret", host)).contains("Login Succeeded");
            // what ci-runner pushes is its own (image tenancy): built by it, from the shared busybox
            java.nio.file.Path ctx = java.nio.file.Files.createDirectories(tmp.resolve("ci-push"));
            java.nio.file.Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox\nUSER 1000\nCMD [\"true\"]\n");
            f.ok("ci-runner", "build", "-q", "-m", "64m", "-t", host + "/ci/app:1", ctx.toString());
            // image namespaces: root's tag is not ci-runner's (upstream mode: a common name, not shared with it)
            f.root("tag", "busybox", host + "/ci/root-made:1");
            denied(f.as("ci-runner", "push", host + "/ci/root-made:1"), "An image does not exist locally with the tag");
            assertThat(f.ok("ci-runner", "push", host + "/ci/app:1")).contains("1: digest: sha256:");
            f.root("tag", "busybox", host + "/other/app:1");
            denied(f.as("ci-runner", "push", host + "/other/app:1"), "pushing " + host + "/other/app:1 is not allowed");
            denied(f.as("ci-runner", "login", "-u", "ci", "-p", "ci-secret", "evil.example.com"),
                    "registry evil.example.com is not allowed (allowed: 127.0.0.1:*)");
            denied(f.as("ci-runner", "pull", "busybox:latest"), "registry docker.io is not allowed");
            denied(f.as("alice", "push", host + "/ci/app:1"), "authorization denied");
        }
    }

    @Test
    void aBuildIsHeldToTheBindingsImagesUsersAndLimits() throws Exception {
        java.nio.file.Path ctx = java.nio.file.Files.createDirectories(tmp.resolve("ci-build"));
        java.nio.file.Files.writeString(ctx.resolve("Dockerfile"), "FROM other:1\nCMD [\"true\"]\n");
        // other:1 is root's and not shared, missing for ci-runner, so it would be pulled, from a registry it may not use
        denied(f.as("ci-runner", "build", "-m", "64m", ctx.toString()), "authorization denied by dockgate: registry docker.io is not allowed");
        java.nio.file.Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox\nCMD [\"true\"]\n");
        f.ok("ci-runner", "build", "-q", "-m", "64m", "-t", "ci-base:1", ctx.toString());
        java.nio.file.Files.writeString(ctx.resolve("Dockerfile"), "FROM ci-base:1\nCMD [\"true\"]\n");
        denied(f.as("ci-runner", "build", "-m", "64m", ctx.toString()), "authorization denied by dockgate: image ci-base:1 is not allowed");
        java.nio.file.Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox\nRUN true\n");
        denied(f.as("ci-runner", "build", ctx.toString()), "a memory limit is required (build steps)");
        denied(f.as("ci-runner", "build", "-m", "64m", ctx.toString()), "running a build step as root is not allowed");
        java.nio.file.Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox\nUSER 1000\nRUN id -u > /tmp/uid\n");
        denied(f.as("ci-runner", "build", "--pull", "-m", "64m", ctx.toString()),
                "registry docker.io is not allowed (allowed: 127.0.0.1:*)"); // a base pulled is judged on its registry
        String built = f.ok("ci-runner", "build", "-q", "-m", "64m", ctx.toString());
        assertThat(built).contains("sha256:");
        assertThat(f.root("images", "-q", "--no-trunc", "--filter", "owner=tls:ci-runner").stdout())
                .as("the image is its builder's").contains(built.substring(built.indexOf("sha256:")).trim());
        denied(f.as("alice", "build", "--network", "host", ctx.toString()), "the host's network namespace is not allowed for build steps");
        String mine = f.ok("alice", "create", "busybox", "true");
        String committed = f.ok("alice", "commit", mine, "alice-committed:1");
        assertThat(f.root("images", "-q", "--no-trunc", "--filter", "owner=tls:alice").stdout()).contains(committed.trim());
        denied(f.as("bob", "commit", mine, "bob-steals:1"), "No such container");
        f.root("rm", "-f", mine);
        assertThat(f.root("ps", "-aq").stdout().trim()).as("no RUN container left").isEmpty();
    }

    @Test
    void volumesAreTheirOwnersToo() throws Exception {
        f.ok("bob", "volume", "create", "bob-data");
        f.ok("bob", "run", "--rm", "-v", "bob-data:/d", "busybox", "sh", "-c", "echo secret > /d/f");
        f.ok("alice", "volume", "create", "alice-data");
        assertThat(f.ok("alice", "volume", "ls", "-q")).isEqualTo("alice-data");
        assertThat(f.root("volume", "ls", "-q").stdout()).contains("alice-data", "bob-data");
        assertThat(f.ok("alice", "volume", "inspect", "-f", "{{json .Labels}}", "alice-data")).isEqualTo("{}");
        assertThat(f.root("volume", "ls", "-q", "--filter", "owner=tls:alice").stdout().trim()).isEqualTo("alice-data");
        denied(f.as("alice", "volume", "inspect", "bob-data"), "no such volume");
        denied(f.as("alice", "volume", "rm", "bob-data"), "no such volume");
        denied(f.as("alice", "run", "--rm", "-v", "bob-data:/d", "busybox", "cat", "/d/f"), "the volume bob-data is not yours");
        denied(f.as("alice", "run", "--rm", "--mount", "type=volume,src=bob-data,dst=/d", "busybox", "true"), "is not yours");
        denied(f.as("alice", "volume", "create", "--label", "io.dockgate.owner=tls:bob", "spoofed"), "is set by the daemon");
        // a volume created on the way by run belongs to the container's owner
        f.ok("alice", "run", "--rm", "-v", "alice-new:/d", "busybox", "true");
        assertThat(f.ok("alice", "volume", "ls", "-q")).contains("alice-new");
        assertThat(f.ok("bob", "volume", "ls", "-q")).isEqualTo("bob-data");
        f.ok("alice", "volume", "rm", "alice-data", "alice-new");
        f.ok("bob", "volume", "rm", "bob-data");
    }

    @Test
    void anOperatorsStreamsAndEventsAreTheirOwn() throws Exception {
        String since = f.root("version", "-f", "{{.Server.Version}}").stdout().isEmpty() ? "" : String.valueOf(System.currentTimeMillis() / 1000 - 1);
        f.ok("bob", "run", "--rm", "--name", "bob-event", "-v", "bob-event-vol:/d", "busybox", "true");
        f.ok("bob", "volume", "rm", "bob-event-vol");
        f.ok("alice", "run", "--rm", "--name", "alice-event", "-v", "alice-event-vol:/d", "busybox", "true");
        f.ok("alice", "volume", "rm", "alice-event-vol");
        String until = String.valueOf(System.currentTimeMillis() / 1000 + 1);
        String format = "{{.Type}} {{.Actor.ID}} {{.Actor.Attributes.name}} {{.Action}}";
        String events = f.ok("alice", "events", "--since", since, "--until", until, "--format", format);
        // a volume's create and destroy are its owner's, its mount and unmount the mounting container's owner's
        assertThat(events).contains("alice-event start", "volume alice-event-vol <no value> create",
                "volume alice-event-vol <no value> mount", "volume alice-event-vol <no value> unmount",
                "volume alice-event-vol <no value> destroy").doesNotContain("bob-event");
        assertThat(f.root("events", "--since", since, "--until", until, "--format", format).stdout())
                .contains("alice-event", "bob-event start", "volume bob-event-vol <no value> create", "volume bob-event-vol <no value> mount",
                        "volume bob-event-vol <no value> destroy");
    }
}
