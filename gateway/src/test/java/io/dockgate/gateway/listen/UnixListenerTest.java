package io.dockgate.gateway.listen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dockgate.config.ConfigKey;
import io.dockgate.gateway.testing.AuditTail;
import io.dockgate.gateway.testing.LogCapture;
import io.dockgate.gateway.testing.RawHttp;
import io.dockgate.gateway.testing.TestDaemon;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Unix socket: its mode and group, caller identity from SO_PEERCRED, stale and live sockets. */
class UnixListenerTest {
    @TempDir
    Path tmp;

    @org.junit.jupiter.api.BeforeEach
    void root() {
        io.dockgate.gateway.testing.Prerequisites.requireRoot();
    }

    private Map<ConfigKey, Object> flags(Path socket, String group) {
        Map<ConfigKey, Object> flags = TestDaemon.baseFlags(tmp);
        flags.put(ConfigKey.HOSTS, List.of("unix://" + socket));
        if (group != null) {
            flags.put(ConfigKey.GROUP, group);
        }
        return flags;
    }

    @Test
    void socketIs0660WithTheConfiguredGroup() throws Exception {
        Path socket = tmp.resolve("run/dg.sock");
        try (TestDaemon d = TestDaemon.start(flags(socket, "daemon"), tmp)) {
            PosixFileAttributes a = Files.readAttributes(socket, PosixFileAttributes.class);
            assertThat(PosixFilePermissions.toString(a.permissions())).isEqualTo("rw-rw----");
            assertThat(a.group().getName()).isEqualTo("daemon");
            assertThat(a.owner().getName()).isEqualTo("root");
        }
        assertThat(socket).as("the socket is removed at stop").doesNotExist();
    }

    @Test
    void missingGroupMeans0600AndAWarning() throws Exception {
        Path socket = tmp.resolve("dg.sock");
        try (LogCapture log = LogCapture.of(UnixListener.class.getName());
             TestDaemon d = TestDaemon.start(flags(socket, "no-such-group-dockgate"), tmp)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
            log.await("group \"no-such-group-dockgate\" does not exist");
        }
    }

    @Test
    void principalComesFromPeerCredentials() throws Exception {
        Path socket = tmp.resolve("dg.sock");
        try (TestDaemon d = TestDaemon.start(flags(socket, "daemon"), tmp)) {
            AuditTail access = d.audit();
            assertThat(RawHttp.status(RawHttp.unixGet(socket, "/_ping"))).isEqualTo(200);
            String line = access.await("\"uri\":\"/_ping\"");
            assertThat(line).contains("\"transport\":\"unix\"", "\"name\":\"root\"", "\"uid\":0", "\"gid\":0",
                    "\"pid\":" + ProcessHandle.current().pid(), "\"operation\":\"system.ping\"");

            // Another user: open the socket to everyone for this test only, then call as nobody.
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx--x--x"));
            Process curl = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    "curl", "-s", "--unix-socket", socket.toString(), "http://docker/v1.50/version").redirectErrorStream(true).start();
            String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(curl.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(out).contains("\"ApiVersion\":\"1.50\"");
            String nobody = access.await("\"uri\":\"/v1.50/version\"");
            assertThat(nobody).contains("\"name\":\"nobody\"", "\"uid\":65534", "\"gid\":65534", "\"groups\":[\"nogroup\"]");
        }
    }

    @Test
    void staleSocketIsReplacedButALiveOneIsNotTakenOver() throws Exception {
        Path socket = tmp.resolve("dg.sock");
        try (ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            stale.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThat(socket).as("Java leaves the socket file behind, like a crashed daemon").exists();
        try (TestDaemon d = TestDaemon.start(flags(socket, "daemon"), tmp)) {
            assertThat(RawHttp.status(RawHttp.unixGet(socket, "/_ping"))).isEqualTo(200);
            Path other = tmp.resolve("other");
            Files.createDirectories(other);
            Map<ConfigKey, Object> second = TestDaemon.baseFlags(other);
            second.put(ConfigKey.HOSTS, List.of("unix://" + socket));
            assertThatThrownBy(() -> TestDaemon.start(second, other))
                    .hasMessageContaining("another daemon is listening on " + socket);
            assertThat(RawHttp.status(RawHttp.unixGet(socket, "/_ping"))).as("the first daemon still serves").isEqualTo(200);
        }
    }
}
