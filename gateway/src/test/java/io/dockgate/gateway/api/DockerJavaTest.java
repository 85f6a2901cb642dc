package io.dockgate.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.CreateContainerResponse;
import com.github.dockerjava.api.command.ExecCreateCmdResponse;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Event;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Statistics;
import com.github.dockerjava.api.model.StreamType;
import com.github.dockerjava.api.model.Volume;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.zerodep.ZerodepDockerHttpClient;
import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.CliSession;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The same scenarios through docker-java, over the Unix socket and over mutual TLS. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DockerJavaTest {
    @TempDir
    static Path tmp;
    CliSession cli;

    @BeforeAll
    void start() throws Exception {
        cli = CliSession.startWithTls(tmp);
        cli.ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox");
    }

    @AfterEach
    void clean() throws Exception {
        cli.removeAllContainers();
    }

    @AfterAll
    void stop() throws Exception {
        cli.close();
    }

    private DockerClient client(String transport) {
        DefaultDockerClientConfig.Builder b = DefaultDockerClientConfig.createDefaultConfigBuilder();
        if (transport.equals("tls")) {
            b.withDockerHost("tcp://127.0.0.1:" + cli.daemon().tcpPort()).withDockerTlsVerify(true)
                    .withDockerCertPath(tmp.resolve("client").toString());
        } else {
            b.withDockerHost("unix://" + cli.socket()).withDockerTlsVerify(false);
        }
        DefaultDockerClientConfig config = b.build();
        ZerodepDockerHttpClient http = new ZerodepDockerHttpClient.Builder().dockerHost(config.getDockerHost())
                .sslConfig(config.getSSLConfig()).responseTimeout(Duration.ofSeconds(60)).build();
        return DockerClientImpl.getInstance(config, http);
    }

    /** The status of a login the registry refused: 401 (as Docker 28); dockerd 20.10 upstream answers 500. */
    int loginRefusedStatus() {
        return 401;
    }

    /** The API version the daemon announces (in upstream mode, the upstream's when lower). */
    String apiVersion() {
        return "1.50";
    }

    /** Collects a multiplexed stream per stream type. */
    static final class Output extends ResultCallback.Adapter<Frame> {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();

        @Override
        public void onNext(Frame frame) {
            synchronized (this) {
                (frame.getStreamType() == StreamType.STDERR ? err : out).writeBytes(frame.getPayload());
            }
        }

        synchronized String out() {
            return out.toString(StandardCharsets.UTF_8);
        }

        synchronized String err() {
            return err.toString(StandardCharsets.UTF_8);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"unix", "tls"})
    void buildAndCommit(String transport) throws Exception {
        Path ctx = java.nio.file.Files.createDirectories(tmp.resolve("dj-build-" + transport));
        java.nio.file.Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox\nARG V\nCOPY data.txt /data.txt\n"
                + "RUN echo \"$V\" >> /data.txt\nCMD [\"cat\", \"/data.txt\"]\n");
        java.nio.file.Files.writeString(ctx.resolve("data.txt"), "from the context\n");
        try (DockerClient docker = client(transport)) {
            String id = docker.buildImageCmd(ctx.toFile()).withTags(java.util.Set.of("dj-built:" + transport)).withBuildArg("V", transport)
                    .withLabels(java.util.Map.of("built-by", "docker-java")).exec(new com.github.dockerjava.api.command.BuildImageResultCallback())
                    .awaitImageId(60, java.util.concurrent.TimeUnit.SECONDS);
            com.github.dockerjava.api.command.InspectImageResponse image = docker.inspectImageCmd("dj-built:" + transport).exec();
            assertThat(image.getId()).startsWith("sha256:" + id);
            assertThat(image.getConfig().getLabels()).containsEntry("built-by", "docker-java");
            String c = docker.createContainerCmd("dj-built:" + transport).exec().getId();
            docker.startContainerCmd(c).exec();
            assertThat(docker.waitContainerCmd(c).start().awaitStatusCode(30, java.util.concurrent.TimeUnit.SECONDS)).isZero();
            Output out = new Output();
            docker.logContainerCmd(c).withStdOut(true).withStdErr(true).exec(out).awaitCompletion(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(out.out()).isEqualTo("from the context\n" + transport + "\n");
            String committed = docker.commitCmd(c).withRepository("dj-committed").withTag(transport).withMessage("by docker-java")
                    .withAuthor("dj").withCmd("echo", "committed").exec();
            assertThat(docker.inspectImageCmd(committed).exec().getAuthor()).isEqualTo("dj");
            assertThat(docker.inspectImageCmd("dj-committed:" + transport).exec().getConfig().getCmd()).containsExactly("echo", "committed");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"unix", "tls"})
    void authAndPushToAPasswordRegistry(String transport) throws Exception {
        try (io.dockgate.gateway.testing.Registry registry = io.dockgate.gateway.testing.Registry.startWithPassword(
                tmp.resolve("dj-registry-" + transport), "carol", "carols-secret");
             DockerClient docker = client(transport)) {
            com.github.dockerjava.api.model.AuthConfig bad = new com.github.dockerjava.api.model.AuthConfig()
                    .withUsername("carol").withPassword("wrong").withRegistryAddress(registry.host());
            assertThatThrownBy(() -> docker.authCmd().withAuthConfig(bad).exec())
                    .isInstanceOfSatisfying(com.github.dockerjava.api.exception.DockerException.class,
                            e -> assertThat(e.getHttpStatus()).isEqualTo(loginRefusedStatus()))
                    .hasMessageContaining("failed with status: 401 Unauthorized");
            com.github.dockerjava.api.model.AuthConfig good = new com.github.dockerjava.api.model.AuthConfig()
                    .withUsername("carol").withPassword("carols-secret").withRegistryAddress(registry.host());
            assertThat(docker.authCmd().withAuthConfig(good).exec().getStatus()).isEqualTo("Login Succeeded");
            docker.tagImageCmd("busybox", registry.host() + "/dj/app", transport).exec();
            List<String> statuses = new CopyOnWriteArrayList<>();
            docker.pushImageCmd(registry.host() + "/dj/app").withTag(transport).withAuthConfig(good)
                    .exec(new com.github.dockerjava.api.async.ResultCallback.Adapter<com.github.dockerjava.api.model.PushResponseItem>() {
                        @Override
                        public void onNext(com.github.dockerjava.api.model.PushResponseItem item) {
                            if (item.getStatus() != null) {
                                statuses.add(item.getStatus());
                            }
                            if (item.getAux() != null) {
                                statuses.add("aux " + item.getAux().getTag() + " " + item.getAux().getDigest());
                            }
                        }
                    }).awaitCompletion(60, TimeUnit.SECONDS);
            assertThat(statuses).anyMatch(st -> st.startsWith(transport + ": digest: sha256:"));
            assertThat(statuses).anyMatch(st -> st.startsWith("aux " + transport + " sha256:"));
            List<String> errors = new CopyOnWriteArrayList<>();
            docker.pushImageCmd(registry.host() + "/dj/app").withTag(transport)
                    .exec(new com.github.dockerjava.api.async.ResultCallback.Adapter<com.github.dockerjava.api.model.PushResponseItem>() {
                        @Override
                        public void onNext(com.github.dockerjava.api.model.PushResponseItem item) {
                            if (item.isErrorIndicated()) {
                                errors.add(item.getErrorDetail() != null ? item.getErrorDetail().getMessage() : item.getError());
                            }
                        }
                    }).awaitCompletion(60, TimeUnit.SECONDS);
            assertThat(errors).as("without credentials").containsExactly("no basic auth credentials");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"unix", "tls"})
    void networksCreateInspectConnectAndRemove(String transport) throws Exception {
        try (DockerClient docker = client(transport)) {
            String name = "dj-" + transport;
            String id = docker.createNetworkCmd().withName(name).withDriver("bridge").withLabels(java.util.Map.of("app", "dj"))
                    .withIpam(new com.github.dockerjava.api.model.Network.Ipam().withConfig(new com.github.dockerjava.api.model.Network.Ipam
                            .Config().withSubnet("10.213.90." + (transport.equals("tls") ? 64 : 0) + "/26")))
                    .exec().getId();
            try {
                com.github.dockerjava.api.model.Network n = docker.inspectNetworkCmd().withNetworkId(id).exec();
                assertThat(n.getName()).isEqualTo(name);
                assertThat(n.getLabels()).containsEntry("app", "dj");
                assertThat(n.getIpam().getConfig().get(0).getSubnet()).isEqualTo("10.213.90." + (transport.equals("tls") ? 64 : 0) + "/26");
                String c = docker.createContainerCmd("busybox").withCmd("sleep", "300")
                        .withHostConfig(com.github.dockerjava.api.model.HostConfig.newHostConfig().withNetworkMode(name)).exec().getId();
                assertThat(docker.inspectContainerCmd(c).exec().getNetworkSettings().getNetworks()).containsKey(name);
                docker.disconnectFromNetworkCmd().withNetworkId(id).withContainerId(c).exec();
                assertThat(docker.inspectContainerCmd(c).exec().getNetworkSettings().getNetworks()).doesNotContainKey(name);
                docker.connectToNetworkCmd().withNetworkId(id).withContainerId(c).exec();
                assertThat(docker.inspectContainerCmd(c).exec().getNetworkSettings().getNetworks()).containsKey(name);
                assertThat(docker.listNetworksCmd().withNameFilter(name).exec()).hasSize(1);
            } finally {
                cli.removeAllContainers();
                docker.removeNetworkCmd(id).exec();
            }
            assertThat(docker.listNetworksCmd().withNameFilter(name).exec()).isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"unix", "tls"})
    void lifecycleLogsExecAttachCopyStatsVolumesAndEvents(String transport) throws Exception {
        try (DockerClient docker = client(transport)) {
            docker.pingCmd().exec();
            assertThat(docker.versionCmd().exec().getApiVersion()).isEqualTo(apiVersion());
            assertThat(docker.inspectImageCmd("busybox").exec().getId()).startsWith("sha256:");
            long since = System.currentTimeMillis() / 1000 - 1;

            Path shared = Files.createDirectories(tmp.resolve("shared-" + transport));
            Files.writeString(shared.resolve("in"), "host file\n");
            docker.createVolumeCmd().withName("vol-" + transport).withLabels(Map.of("k", "v")).exec();
            CreateContainerResponse created = docker.createContainerCmd("busybox").withName("dj-" + transport)
                    .withCmd("sh", "-c", "echo started; cat /host/in; echo oops >&2; echo v > /data/f; sleep 300")
                    .withEnv("A=1").withLabels(Map.of("team", "core"))
                    .withHostConfig(HostConfig.newHostConfig().withMemory(64L << 20)
                            .withBinds(Bind.parse(shared + ":/host:ro"), Bind.parse("vol-" + transport + ":/data")))
                    .exec();
            String id = created.getId();
            assertThatThrownBy(() -> docker.createContainerCmd("busybox").withName("dj-" + transport).exec())
                    .isInstanceOf(ConflictException.class);
            docker.startContainerCmd(id).exec();

            Output logs = new Output();
            docker.logContainerCmd(id).withStdOut(true).withStdErr(true).withFollowStream(true).withTailAll().exec(logs);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            // stdout and stderr are separate pipes: "oops" may reach the log after "host file"
            while (!(logs.out().contains("host file") && logs.err().contains("oops")) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            logs.close();
            assertThat(logs.out()).startsWith("started\nhost file\n");
            assertThat(logs.err()).contains("oops");

            InspectContainerResponse inspect = docker.inspectContainerCmd(id).exec();
            assertThat(inspect.getState().getRunning()).isTrue();
            assertThat(inspect.getHostConfig().getMemory()).isEqualTo(64L << 20);
            assertThat(inspect.getMounts()).hasSize(2);
            assertThat(docker.listContainersCmd().withLabelFilter(Map.of("team", "core")).exec()).extracting(c -> c.getId())
                    .contains(id);

            ExecCreateCmdResponse exec = docker.execCreateCmd(id).withCmd("sh", "-c", "echo $A from exec; exit 3")
                    .withAttachStdout(true).withAttachStderr(true).exec();
            Output execOut = new Output();
            docker.execStartCmd(exec.getId()).exec(execOut).awaitCompletion(20, TimeUnit.SECONDS);
            assertThat(execOut.out()).isEqualTo("1 from exec\n");
            assertThat(docker.inspectExecCmd(exec.getId()).exec().getExitCodeLong()).isEqualTo(3);

            ExecCreateCmdResponse withStdin = docker.execCreateCmd(id).withCmd("cat").withAttachStdin(true).withAttachStdout(true)
                    .exec();
            Output catOut = new Output();
            docker.execStartCmd(withStdin.getId()).withStdIn(new ByteArrayInputStream("through stdin\n".getBytes(StandardCharsets.UTF_8)))
                    .exec(catOut).awaitCompletion(20, TimeUnit.SECONDS);
            assertThat(catOut.out()).isEqualTo("through stdin\n");

            ByteArrayOutputStream tarBytes = new ByteArrayOutputStream();
            try (TarArchiveOutputStream tar = new TarArchiveOutputStream(tarBytes)) {
                byte[] content = "copied in\n".getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry e = new TarArchiveEntry("copied.txt");
                e.setSize(content.length);
                tar.putArchiveEntry(e);
                tar.write(content);
                tar.closeArchiveEntry();
            }
            docker.copyArchiveToContainerCmd(id).withTarInputStream(new ByteArrayInputStream(tarBytes.toByteArray()))
                    .withRemotePath("/tmp").exec();
            try (InputStream in = docker.copyArchiveFromContainerCmd(id, "/tmp/copied.txt").exec();
                 TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
                TarArchiveEntry e = tar.getNextEntry();
                assertThat(e.getName()).isEqualTo("copied.txt");
                assertThat(new String(tar.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("copied in\n");
            }

            List<Statistics> readings = new CopyOnWriteArrayList<>();
            docker.statsCmd(id).withNoStream(true).exec(new ResultCallback.Adapter<Statistics>() {
                @Override
                public void onNext(Statistics s) {
                    readings.add(s);
                }
            }).awaitCompletion(20, TimeUnit.SECONDS);
            Statistics stats = readings.get(0);
            assertThat(stats.getMemoryStats().getLimit()).isEqualTo(64L << 20);

            docker.pauseContainerCmd(id).exec();
            assertThat(docker.inspectContainerCmd(id).exec().getState().getPaused()).isTrue();
            docker.unpauseContainerCmd(id).exec();
            docker.killContainerCmd(id).withSignal("KILL").exec();
            Integer code = docker.waitContainerCmd(id).start().awaitStatusCode(30, TimeUnit.SECONDS);
            assertThat(code).isEqualTo(137);
            docker.removeContainerCmd(id).exec();
            assertThatThrownBy(() -> docker.inspectContainerCmd(id).exec()).isInstanceOf(NotFoundException.class);

            List<String> volumes = docker.listVolumesCmd().exec().getVolumes().stream().map(v -> v.getName()).toList();
            assertThat(volumes).contains("vol-" + transport);
            docker.removeVolumeCmd("vol-" + transport).exec();

            List<Event> events = new CopyOnWriteArrayList<>();
            docker.eventsCmd().withSince(Long.toString(since)).withUntil(Long.toString(System.currentTimeMillis() / 1000 + 1))
                    .withContainerFilter(id).exec(new ResultCallback.Adapter<Event>() {
                        @Override
                        public void onNext(Event e) {
                            events.add(e);
                        }
                    }).awaitCompletion(20, TimeUnit.SECONDS);
            assertThat(events.stream().map(Event::getAction).toList())
                    .containsSubsequence("create", "start", "pause", "unpause", "kill", "die", "destroy");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"unix", "tls"})
    void attachWithStdinAndAStoppedContainer(String transport) throws Exception {
        try (DockerClient docker = client(transport)) {
            String id = docker.createContainerCmd("busybox").withCmd("sh", "-c", "read a; read b; echo got $a $b; exit 4")
                    .withStdinOpen(true).withStdInOnce(true).withAttachStdin(true).exec().getId();
            PipedOutputStream feed = new PipedOutputStream();
            PipedInputStream stdin = new PipedInputStream(feed);
            Output out = new Output();
            docker.attachContainerCmd(id).withStdIn(stdin).withStdOut(true).withStdErr(true).withFollowStream(true).exec(out);
            Thread.sleep(300);
            docker.startContainerCmd(id).exec();
            feed.write("a\nb\n".getBytes(StandardCharsets.UTF_8));
            feed.close();
            Integer code = docker.waitContainerCmd(id).start().awaitStatusCode(30, TimeUnit.SECONDS);
            out.awaitCompletion(10, TimeUnit.SECONDS);
            assertThat(code).isEqualTo(4);
            assertThat(out.out()).isEqualTo("got a b\n"); // docker-java never half-closes stdin: the command reads two lines
            assertThatThrownBy(() -> docker.execCreateCmd(id).withCmd("true").exec()).isInstanceOf(ConflictException.class);
        }
    }
}
