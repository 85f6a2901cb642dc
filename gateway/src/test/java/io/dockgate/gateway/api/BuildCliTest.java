package io.dockgate.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.CliSession;
import io.dockgate.gateway.testing.DockerCli;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker build (the classic builder) and docker commit through the real CLI: every instruction, build
 * arguments, -f, -q, --iidfile, the cache, --no-cache, a failing RUN's exit code, multi-stage with
 * --target, FROM scratch, COPY --from and --chown, ADD of a tar, ONBUILD, BuildKit-only syntax refused,
 * hostile contexts, a cancelled build leaving nothing, and commit with changes, message and author.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BuildCliTest {
    private static final Map<String, String> LEGACY = Map.of("DOCKER_BUILDKIT", "0");
    @TempDir
    static Path tmp;
    private CliSession cli;

    @BeforeAll
    void start() throws Exception {
        cli = CliSession.start(tmp, tmp.resolve("dg.sock"), Map.of(io.dockgate.config.ConfigKey.MAX_BUILD_CONTEXT, "1m"));
        cli.ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox");
    }

    @AfterAll
    void stop() throws Exception {
        cli.removeAllContainers();
        cli.close();
    }

    private DockerCli.Result build(Path context, String... args) throws Exception {
        String[] all = new String[args.length + 2];
        all[0] = "build";
        System.arraycopy(args, 0, all, 1, args.length);
        all[all.length - 1] = context.toString();
        return cli.dockerWith(LEGACY, all);
    }

    private static Path context(String name, String dockerfile, Map<String, String> files) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.writeString(dir.resolve("Dockerfile"), dockerfile);
        for (Map.Entry<String, String> f : files.entrySet()) {
            Path p = dir.resolve(f.getKey());
            Files.createDirectories(p.getParent());
            Files.writeString(p, f.getValue());
        }
        return dir;
    }

    @Test
    void everyInstructionBuildsAndARebuildComesFromTheCache() throws Exception {
        Path ctx = context("all", """
                # a comment
                FROM busybox
                ARG WHO=world
                ENV GREETING="hello ${WHO}" \\
                    EMPTY=""
                LABEL org.test.a=1 b="two words"
                WORKDIR /app
                COPY hello.txt .
                COPY sub /app/sub/
                RUN echo "ran as $(id -u) in $(pwd) for $WHO" > ran.txt && cat ran.txt
                USER 1000:1000
                EXPOSE 8080/tcp 9000-9001
                VOLUME /data
                STOPSIGNAL SIGINT
                HEALTHCHECK --interval=1s --retries=2 CMD test -f /app/ran.txt
                ENTRYPOINT ["sh", "-c"]
                CMD ["cat /app/ran.txt; echo $GREETING"]
                """, Map.of("hello.txt", "hello\n", "sub/deep.txt", "deep\n"));
        Path iid = tmp.resolve("iid");
        DockerCli.Result first = build(ctx, "-t", "built:1", "-t", "built:also", "--build-arg", "WHO=dockgate", "--iidfile", iid.toString());
        assertThat(first.exitCode()).as(first.toString()).isZero();
        assertThat(first.stdout()).contains("Step 1/15 : FROM busybox", " ---> Running in ", "ran as 0 in /app for dockgate",
                "Successfully built ", "Successfully tagged built:1", "Successfully tagged built:also");
        String id = Files.readString(iid).trim();
        assertThat(id).startsWith("sha256:");
        String audited = cli.daemon().audit().await("\"type\":\"build\"", "\"image\":\"" + id + "\"");
        assertThat(audited).contains("\"bases\":[\"busybox@sha256:");
        assertThat(cli.daemon().audit().await("\"operation\":\"image.build\"")).contains("t=built");
        assertThat(cli.ok("inspect", "-f", "{{.Id}}", "built:also").stdout().trim()).isEqualTo(id);
        assertThat(cli.ok("run", "--rm", "built:1").stdout()).isEqualTo("ran as 0 in /app for dockgate\nhello dockgate\n");
        assertThat(cli.ok("image", "inspect", "-f", "{{.Config.User}} {{.Config.WorkingDir}} {{json .Config.Labels}} "
                + "{{json .Config.ExposedPorts}} {{json .Config.Volumes}} {{.Config.StopSignal}} {{json .Config.Entrypoint}}", "built:1")
                .stdout().trim()).isEqualTo("1000:1000 /app {\"b\":\"two words\",\"org.test.a\":\"1\"} "
                + "{\"8080/tcp\":{},\"9000/tcp\":{},\"9001/tcp\":{}} {\"/data\":{}} SIGINT [\"sh\",\"-c\"]");
        assertThat(cli.ok("run", "--rm", "--entrypoint", "ls", "built:1", "-ln", "/app/hello.txt", "/app/sub/deep.txt").stdout())
                .contains("0        0").contains("/app/sub/deep.txt");
        assertThat(cli.ok("history", "--no-trunc", "built:1").stdout()).contains("/bin/sh -c #(nop)  ENV GREETING=",
                "|1 WHO=dockgate /bin/sh -c echo", "/bin/sh -c #(nop) COPY file:");
        List<String> ids = cli.ok("history", "-q", "built:1").stdout().lines().toList();
        assertThat(ids.stream().filter(x -> !x.equals("<missing>")).count()).as("every step's image, as dockerd shows them")
                .isEqualTo(15);
        assertThat(ids.get(ids.size() - 1)).as("the imported base has no parent to name its entry").isEqualTo(
                cli.ok("image", "inspect", "-f", "{{.Id}}", "busybox").stdout().trim().substring(7, 19));
        // the image's HEALTHCHECK is its containers' check
        cli.ok("run", "-d", "--name", "checked", "--entrypoint", "sleep", "built:1", "300");
        String status = "";
        for (int i = 0; i < 100 && !status.equals("healthy"); i++) {
            Thread.sleep(100);
            status = cli.ok("inspect", "-f", "{{.State.Health.Status}}", "checked").stdout().trim();
        }
        assertThat(status).isEqualTo("healthy");
        cli.ok("rm", "-f", "checked");

        DockerCli.Result again = build(ctx, "-t", "built:1", "--build-arg", "WHO=dockgate");
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(again.stdout()).contains("Using cache").doesNotContain("Running in");
        assertThat(cli.ok("inspect", "-f", "{{.Id}}", "built:1").stdout().trim()).as("the same image").isEqualTo(id);
        DockerCli.Result other = build(ctx, "-q", "--build-arg", "WHO=else");
        assertThat(other.stdout().trim()).as("-q: the ID only").matches("sha256:[0-9a-f]{64}").isNotEqualTo(id);
        DockerCli.Result fresh = build(ctx, "--no-cache", "--build-arg", "WHO=dockgate");
        assertThat(fresh.stdout()).contains("Running in").doesNotContain("Using cache");
        Files.writeString(ctx.resolve("Other.dockerfile"), "FROM busybox\nCMD [\"echo\", \"other file\"]\n");
        DockerCli.Result named = build(ctx, "-f", ctx.resolve("Other.dockerfile").toString(), "-t", "other");
        assertThat(named.exitCode()).as(named.toString()).isZero();
        assertThat(cli.ok("run", "--rm", "other").stdout()).isEqualTo("other file\n");
        assertThat(cli.ok("ps", "-aq").stdout().trim()).as("RUN containers removed").isEmpty();
        // removing a built image takes the untagged images of its steps with it; a base others were made from stays
        Path chain = context("chain", "FROM busybox\nENV STEP=1\nRUN echo one > /one\nENV STEP=2\n", Map.of());
        String chained = build(chain, "-q", "-t", "chained").stdout().trim();
        int before = cli.ok("images", "-aq").stdout().lines().toList().size();
        DockerCli.Result rmi = cli.docker("rmi", "chained");
        assertThat(rmi.stdout()).contains("Untagged: chained:latest", "Deleted: " + chained);
        assertThat(rmi.stdout().lines().filter(l -> l.startsWith("Deleted: ")).count())
                .as("the image (its last step's), the two before, and the RUN step's layer").isEqualTo(4);
        assertThat(cli.ok("images", "-aq").stdout().lines().toList()).hasSize(before - 3);
        String intermediate = cli.ok("history", "-q", "built:1").stdout().lines().skip(1).findFirst().orElseThrow();
        assertThat(cli.docker("rmi", intermediate).stderr()).contains("image has dependent child images");
        // a Dockerfile alone as the body (docker build - < Dockerfile): no context
        DockerCli.Result stdin = cli.dockerWith(LEGACY, "FROM busybox\nCMD [\"echo\", \"from stdin\"]\n".getBytes(StandardCharsets.UTF_8),
                "build", "-t", "from-stdin", "-");
        assertThat(stdin.exitCode()).as(stdin.toString()).isZero();
        assertThat(cli.ok("run", "--rm", "from-stdin").stdout()).isEqualTo("from stdin\n");
        // without DOCKER_BUILDKIT the CLI (no buildx here) falls back to the same legacy builder
        DockerCli.Result fallback = cli.docker("build", "-q", ctx.toString());
        assertThat(fallback.exitCode()).as(fallback.toString()).isZero();
    }

    @Test
    void multiStageBuildsWithTargetScratchCopyFromChownAddAndOnbuild() throws Exception {
        Path tree = Files.createDirectories(tmp.resolve("tree/a"));
        Files.writeString(tree.resolve("x"), "x\n");
        Path ctx = context("multi", """
                FROM busybox AS base
                ONBUILD RUN echo triggered > /trig.txt

                FROM base AS builder
                RUN mkdir /out && echo built > /out/artifact \\
                    && echo builder:x:1234:1234::/home:/bin/sh >> /etc/passwd && echo builder:x:1234: >> /etc/group

                FROM scratch AS empty
                COPY --from=builder /out/artifact /artifact

                FROM busybox
                COPY --from=builder /etc/passwd /etc/group /etc/
                COPY --chown=builder:builder --from=empty /artifact /home/artifact
                ADD files.tgz /extracted/
                CMD ["sh", "-c", "cat /home/artifact; stat -c '%u:%g' /home/artifact; cat /extracted/a/x; test -e /trig.txt || echo untriggered"]
                """, Map.of());
        Process tar = new ProcessBuilder("tar", "czf", ctx.resolve("files.tgz").toString(), "-C", tmp.resolve("tree").toString(), ".")
                .start();
        assertThat(tar.waitFor()).isZero();
        DockerCli.Result r = build(ctx, "-t", "multi");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("# Executing 1 build trigger");
        assertThat(cli.ok("run", "--rm", "multi").stdout()).isEqualTo("built\n1234:1234\nx\nuntriggered\n");
        DockerCli.Result target = build(ctx, "--target", "builder", "-t", "builder-only");
        assertThat(target.exitCode()).as(target.toString()).isZero();
        assertThat(target.stdout()).doesNotContain("FROM scratch");
        assertThat(cli.ok("run", "--rm", "builder-only", "cat", "/out/artifact", "/trig.txt").stdout()).isEqualTo("built\ntriggered\n");
        assertThat(build(ctx, "--target", "nosuch").stderr()).contains("failed to reach build target nosuch in Dockerfile");
        Path scratch = context("scratch", "FROM scratch\nCOPY hello /hello\n", Map.of("hello", "from scratch\n"));
        assertThat(build(scratch, "-t", "scratchy").exitCode()).isZero();
        assertThat(cli.ok("image", "inspect", "-f", "{{len .RootFS.Layers}}", "scratchy").stdout().trim()).isEqualTo("1");
    }

    @Test
    void aFailingRunGivesItsExitCodeAndBuildKitSyntaxIsRefused() throws Exception {
        DockerCli.Result failing = build(context("failing", "FROM busybox\nRUN echo before; exit 3\n", Map.of()));
        assertThat(failing.exitCode()).isEqualTo(3);
        assertThat(failing.stdout()).contains("before");
        assertThat(failing.stderr()).contains("The command '/bin/sh -c echo before; exit 3' returned a non-zero code: 3");
        assertThat(build(context("mount", "FROM busybox\nRUN --mount=type=cache,target=/c true\n", Map.of())).stderr())
                .contains("the --mount option requires BuildKit");
        assertThat(build(context("chmod", "FROM busybox\nCOPY --chmod=755 Dockerfile /x\n", Map.of())).stderr())
                .contains("the --chmod option requires BuildKit");
        assertThat(build(context("heredoc", "FROM busybox\nRUN <<EOF\necho hi\nEOF\n", Map.of())).stderr())
                .contains("heredocs require BuildKit");
        assertThat(build(context("unknown", "FROM busybox\nFROBNICATE now\n", Map.of())).stderr())
                .contains("unknown instruction: FROBNICATE");
        assertThat(build(context("url", "FROM busybox\nADD http://127.0.0.1:1/x /x\n", Map.of())).stderr())
                .contains("ADD from a URL");
        assertThat(build(context("missing", "FROM busybox\nCOPY nothere /x\n", Map.of())).stderr())
                .contains("file not found in build context");
        cli.removeAllContainers();
    }

    /** A tar of the entries: name → content (null: a directory); "name -> target": a symbolic link. */
    private static byte[] tar(Map<String, String> entries) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            for (Map.Entry<String, String> e : entries.entrySet()) {
                TarArchiveEntry entry;
                if (e.getKey().contains(" -> ")) {
                    String[] link = e.getKey().split(" -> ");
                    entry = new TarArchiveEntry(link[0], TarArchiveEntry.LF_SYMLINK);
                    entry.setLinkName(link[1]);
                    out.putArchiveEntry(entry);
                } else {
                    byte[] data = e.getValue() == null ? new byte[0] : e.getValue().getBytes(StandardCharsets.UTF_8);
                    entry = new TarArchiveEntry(e.getKey());
                    entry.setSize(data.length);
                    out.putArchiveEntry(entry);
                    out.write(data);
                }
                out.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    @Test
    void nothingInAContextReachesOutsideIt() throws Exception {
        Map<String, String> linkOut = new java.util.LinkedHashMap<>();
        linkOut.put("Dockerfile", "FROM busybox\nCOPY etc/passwd /stolen\n");
        linkOut.put("etc -> /etc", null);
        DockerCli.Result viaLink = cli.dockerWith(LEGACY, tar(linkOut), "build", "-");
        assertThat(viaLink.exitCode()).isNotZero();
        assertThat(viaLink.stderr()).as("an absolute link resolves inside the context (here: to itself)")
                .contains("COPY failed: etc/passwd: too many levels of symbolic links");
        Map<String, String> elsewhere = new java.util.LinkedHashMap<>();
        elsewhere.put("Dockerfile", "FROM busybox\nCOPY hostroot/etc/hostname /stolen\n");
        elsewhere.put("hostroot -> /", null);
        DockerCli.Result viaRoot = cli.dockerWith(LEGACY, tar(elsewhere), "build", "-");
        assertThat(viaRoot.stderr()).as("/ is the context's root").contains("file not found in build context");
        Map<String, String> dotdot = new java.util.LinkedHashMap<>();
        dotdot.put("Dockerfile", "FROM busybox\nCOPY . /\n");
        dotdot.put("../escape", "x");
        DockerCli.Result escape = cli.dockerWith(LEGACY, tar(dotdot), "build", "-");
        assertThat(escape.exitCode()).isNotZero();
        assertThat(Files.exists(tmp.getParent().resolve("escape"))).isFalse();
        Map<String, String> sourceUp = new java.util.LinkedHashMap<>();
        sourceUp.put("Dockerfile", "FROM busybox\nCOPY ../../../../etc/shadow /x\n");
        DockerCli.Result up = cli.dockerWith(LEGACY, tar(sourceUp), "build", "-");
        assertThat(up.stderr()).as("'..' stops at the context's root").contains("file not found in build context");
        Map<String, String> fine = new java.util.LinkedHashMap<>();
        fine.put("Dockerfile", "FROM busybox\nCOPY . /ctx/\nRUN ls -l /ctx/inside && cat /ctx/inside\n");
        fine.put("real.txt", "inside the context\n");
        fine.put("inside -> real.txt", null);
        DockerCli.Result ok = cli.dockerWith(LEGACY, tar(fine), "build", "-");
        assertThat(ok.exitCode()).as(ok.toString()).isZero();
        assertThat(ok.stdout()).contains("inside -> real.txt", "inside the context");
        cli.removeAllContainers();
    }

    @Test
    void aContextOverTheLimitIsRefused() throws Exception {
        Path ctx = context("big", "FROM busybox\nCOPY big /big\n", Map.of());
        Files.write(ctx.resolve("big"), new java.util.Random(1).ints(2 << 20).collect(ByteArrayOutputStream::new,
                (b, i) -> b.write(i), (a, b) -> a.write(b.toByteArray(), 0, b.size())).toByteArray());
        DockerCli.Result r = build(ctx);
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("invalid build context");
        assertThat(contextsLeft()).isEmpty();
    }

    /** The contexts still on disk, after waiting (up to 5 s) for the background removal of finished ones. */
    private static List<Path> contextsLeft() throws Exception {
        List<Path> left = List.of();
        for (int i = 0; i < 50; i++) {
            try (var c = Files.list(tmp.resolve("data/build/contexts"))) {
                left = c.toList();
            }
            if (left.isEmpty()) {
                break;
            }
            Thread.sleep(100);
        }
        return left;
    }

    @Test
    void aCancelledBuildLeavesNoContainerMountOrSnapshot() throws Exception {
        Path ctx = context("slow", "FROM busybox\nRUN sleep 60\n", Map.of());
        Process p = cli.dockerBackgroundWith(LEGACY, "build", ctx.toString());
        String running = "";
        for (int i = 0; i < 100 && running.isEmpty(); i++) {
            Thread.sleep(100);
            running = cli.ok("ps", "-q").stdout().trim();
        }
        assertThat(running).as("the RUN container runs").isNotEmpty();
        new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        String left = "x";
        for (int i = 0; i < 100 && !left.isEmpty(); i++) {
            Thread.sleep(100);
            left = cli.ok("ps", "-aq").stdout().trim();
        }
        assertThat(left).as("the RUN container is removed").isEmpty();
        Path snapshots = tmp.resolve("data").resolve("snapshots");
        try (var s = Files.list(snapshots)) {
            assertThat(s.map(x -> x.getFileName().toString()).toList()).as("no snapshot stays").isEmpty();
        }
        assertThat(contextsLeft()).as("no context stays").isEmpty();
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(snapshots.toString());
    }

    @Test
    void commitMakesAnImageOfTheWritableLayerWithChangesMessageAndAuthor() throws Exception {
        cli.ok("run", "-d", "--name", "source", "-e", "KEPT=yes", "busybox", "sh", "-c",
                "echo new > /added; rm /etc/shells 2>/dev/null; rm -rf /usr/share; mkdir -p /usr/share/fresh; echo >> /etc/hosts; sleep 300");
        Thread.sleep(500);
        String id = cli.ok("commit", "-c", "CMD [\"cat\", \"/added\"]", "-c", "ENV ADDED=1", "-m", "a message", "-a", "Ann Author",
                "source", "committed:1").stdout().trim();
        assertThat(id).startsWith("sha256:");
        assertThat(cli.ok("inspect", "-f", "{{.State.Status}}", "source").stdout().trim()).as("unpaused after").isEqualTo("running");
        assertThat(cli.ok("run", "--rm", "committed:1").stdout()).isEqualTo("new\n");
        assertThat(cli.ok("run", "--rm", "committed:1", "sh", "-c", "echo $KEPT $ADDED; ls /usr/share; test -e /etc/shells || echo gone")
                .stdout()).isEqualTo("yes 1\nfresh\ngone\n");
        assertThat(cli.ok("image", "inspect", "-f", "{{.Author}}|{{.Comment}}|{{.Parent}}", "committed:1").stdout().trim())
                .startsWith("Ann Author|a message|sha256:");
        assertThat(cli.ok("history", "committed:1").stdout()).contains("a message");
        String layer = cli.ok("image", "inspect", "-f", "{{json .RootFS.Layers}}", "committed:1").stdout();
        assertThat(layer.split(",").length).isEqualTo(2);
        DockerCli.Result missing = cli.docker("commit", "nosuch", "x");
        assertThat(missing.stderr()).contains("No such container: nosuch");
        cli.ok("rm", "-f", "source");
    }
}
