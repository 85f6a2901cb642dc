package io.dockgate.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.config.ConfigKey;
import io.dockgate.gateway.testing.RawHttp;
import io.dockgate.gateway.testing.TestDaemon;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The first endpoints byte for byte as the docker CLI needs them, and the errors around them. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SystemApiTest {
    @TempDir
    static Path tmp;
    private TestDaemon daemon;
    private Path socket;
    private final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    void start() throws Exception {
        socket = tmp.resolve("dg.sock");
        Map<ConfigKey, Object> flags = TestDaemon.baseFlags(tmp);
        flags.put(ConfigKey.HOSTS, List.of("unix://" + socket));
        daemon = TestDaemon.start(flags, tmp);
    }

    @AfterAll
    void stop() throws Exception {
        daemon.close();
    }

    @Test
    void headPingCarriesTheNegotiationHeadersAndNoBody() throws Exception {
        String r = RawHttp.unix(socket, "HEAD /_ping HTTP/1.1\r\nHost: docker\r\n\r\n");
        assertThat(RawHttp.status(r)).isEqualTo(200);
        assertThat(RawHttp.header(r, "Api-Version")).isEqualTo("1.50");
        assertThat(RawHttp.header(r, "Ostype")).isEqualTo("linux");
        assertThat(RawHttp.header(r, "Docker-Experimental")).isEqualTo("false");
        assertThat(RawHttp.header(r, "Swarm")).isEqualTo("inactive");
        assertThat(RawHttp.header(r, "Cache-Control")).isEqualTo("no-cache, no-store, must-revalidate");
        assertThat(RawHttp.header(r, "Pragma")).isEqualTo("no-cache");
        assertThat(RawHttp.header(r, "Content-Type")).isEqualTo("text/plain; charset=utf-8");
        assertThat(RawHttp.header(r, "Content-Length")).isEqualTo("0");
        assertThat(RawHttp.header(r, "Server")).startsWith("dockgate/").endsWith(" (linux)");
        assertThat(RawHttp.body(r)).isEmpty();
    }

    @Test
    void getPingAnswersOkWithAndWithoutVersion() throws Exception {
        for (String path : List.of("/_ping", "/v1.50/_ping", "/v1.24/_ping", "/v1.32/_ping")) {
            String r = RawHttp.unixGet(socket, path);
            assertThat(RawHttp.status(r)).as(path).isEqualTo(200);
            assertThat(RawHttp.body(r)).as(path).isEqualTo("OK");
        }
    }

    @Test
    void versionAndInfoCarryWhatTheCliReads() throws Exception {
        JsonNode version = json.readTree(RawHttp.body(RawHttp.unixGet(socket, "/v1.50/version")));
        assertThat(version.path("ApiVersion").asText()).isEqualTo("1.50");
        assertThat(version.path("MinAPIVersion").asText()).isEqualTo("1.24");
        assertThat(version.path("Os").asText()).isEqualTo("linux");
        assertThat(version.path("Components").get(0).path("Name").asText()).isEqualTo("Engine");
        String infoResponse = RawHttp.unixGet(socket, "/info");
        assertThat(RawHttp.header(infoResponse, "Content-Type")).isEqualTo("application/json");
        JsonNode info = json.readTree(RawHttp.body(infoResponse));
        assertThat(info.path("ID").asText()).isNotBlank();
        assertThat(info.path("NCPU").asInt()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(info.path("MemTotal").asLong()).isGreaterThan(1L << 20);
        assertThat(info.path("OSType").asText()).isEqualTo("linux");
        assertThat(info.path("Swarm").path("LocalNodeState").asText()).isEqualTo("inactive");
        assertThat(info.path("DockerRootDir").asText()).isEqualTo(tmp.resolve("data").toString());
        assertThat(info.path("Containers").isInt()).isTrue();
    }

    @ParameterizedTest(name = "{0} {1} -> {2}")
    @CsvSource(delimiter = '|', value = {
            "GET|/v1.23/version|400|client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version",
            "GET|/v1.51/version|400|client version 1.51 is too new. Maximum supported API version is 1.50",
            "GET|/v1/version|400|invalid API version \"1\"",
            "GET|/v1.2.3/version|400|invalid API version \"1.2.3\"",
            "GET|/vx/version|404|page not found",
            "GET|/nope|404|page not found",
            "GET|/v1.50/containers/json/extra/segments|404|page not found",
            "POST|/info|404|page not found",
            "DELETE|/_ping|404|page not found",
            "GET|//info|400|invalid request path: empty segment",
            "GET|/_ping/|400|invalid request path: empty segment",
            "GET|/v1.41/../info|400|invalid request path: dot segment",
            "GET|/v1.41/%2e%2e/info|400|invalid request path: dot segment",
            "GET|/./info|400|invalid request path: dot segment",
            "GET|/info%00|400|invalid request path: NUL byte",
            "GET|/%252e%252e/info|400|invalid request path: double percent-encoding",
            "GET|/in%2Ffo|404|page not found",
            "GET|/info%zz|400|invalid request path: malformed percent-encoding",
    })
    void errorsUseDockersJsonFormAndWording(String method, String path, int status, String message) throws Exception {
        String r = RawHttp.unix(socket, method + " " + path + " HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n\r\n");
        assertThat(RawHttp.status(r)).isEqualTo(status);
        assertThat(RawHttp.header(r, "Content-Type")).isEqualTo("application/json");
        assertThat(RawHttp.header(r, "Api-Version")).isEqualTo("1.50");
        assertThat(json.readTree(RawHttp.body(r)).path("message").asText()).isEqualTo(message);
    }

    @Test
    void keepAliveServesSeveralRequestsOnOneConnection() throws Exception {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            var in = Channels.newInputStream(channel);
            for (int i = 0; i < 3; i++) {
                channel.write(ByteBuffer.wrap("GET /v1.50/version HTTP/1.1\r\nHost: docker\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
                assertThat(RawHttp.status(RawHttp.readResponse(in))).isEqualTo(200);
            }
        }
    }
}
