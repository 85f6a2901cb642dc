package io.dockgate.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.engine.testing.TestImages;
import io.dockgate.gateway.testing.CliSession;
import io.dockgate.gateway.testing.RawHttp;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Health checks through the real docker CLI: --health-cmd with a 1 s interval watched through inspect
 * (State.Health with its log), events (health_status) and ps (its status words and the health filter);
 * a probe that outlives its timeout; the start period; checks stop with the container.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HealthchecksCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path tmp;
    private CliSession cli;

    @BeforeAll
    void start() throws Exception {
        cli = CliSession.start(tmp);
        cli.ok("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(tmp).toString(), "busybox");
    }

    @AfterAll
    void stop() throws Exception {
        for (String id : cli.docker("ps", "-aq").stdout().split("\\s+")) {
            if (!id.isBlank()) {
                cli.docker("rm", "-f", id);
            }
        }
        cli.close();
    }

    private JsonNode health(String name) throws Exception {
        return JSON.readTree(cli.ok("inspect", "-f", "{{json .State.Health}}", name).stdout());
    }

    /** Waits (up to 20 s) until the container's health status is the one wanted. */
    private JsonNode awaitStatus(String name, String status) throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
        JsonNode h = health(name);
        while (!h.path("Status").asText().equals(status) && Instant.now().isBefore(deadline)) {
            Thread.sleep(200);
            h = health(name);
        }
        assertThat(h.path("Status").asText()).as(h.toString()).isEqualTo(status);
        return h;
    }

    @Test
    void aCheckGoesFromStartingToUnhealthyToHealthyWithEventsAndPsWords() throws Exception {
        String since = String.valueOf(System.currentTimeMillis() / 1000 - 1);
        cli.ok("run", "-d", "--name", "probed", "--health-cmd", "echo probing; test -f /tmp/ready", "--health-interval", "1s",
                "--health-retries", "2", "busybox", "sh", "-c", "sleep 4; touch /tmp/ready; sleep 300");
        assertThat(cli.ok("ps", "--format", "{{.Status}}", "--filter", "name=probed").stdout()).contains("(health: starting)");
        assertThat(cli.ok("inspect", "-f", "{{json .Config.Healthcheck}}", "probed").stdout().trim())
                .isEqualTo("{\"Test\":[\"CMD-SHELL\",\"echo probing; test -f /tmp/ready\"],\"Interval\":1000000000,\"Retries\":2}");
        JsonNode sick = awaitStatus("probed", "unhealthy");
        assertThat(sick.get("FailingStreak").asInt()).isGreaterThanOrEqualTo(2);
        assertThat(sick.get("Log").get(0).get("ExitCode").asInt()).isEqualTo(1);
        assertThat(sick.get("Log").get(0).get("Output").asText()).isEqualTo("probing\n");
        assertThat(cli.ok("ps", "-q", "--filter", "health=unhealthy", "--filter", "name=probed").stdout().trim()).isNotEmpty();
        JsonNode well = awaitStatus("probed", "healthy");
        assertThat(well.get("FailingStreak").asInt()).isZero();
        assertThat(well.get("Log").size()).isBetween(1, 5);
        assertThat(cli.ok("ps", "--format", "{{.Status}}", "--filter", "health=healthy", "--filter", "name=probed").stdout())
                .contains("(healthy)");
        assertThat(cli.ok("ps", "-q", "--filter", "health=unhealthy", "--filter", "name=probed").stdout().trim()).isEmpty();
        Thread.sleep(4500); // more than five probes
        assertThat(health("probed").get("Log").size()).as("the last five results only").isEqualTo(5);
        String until = String.valueOf(System.currentTimeMillis() / 1000 + 1);
        String events = cli.ok("events", "--since", since, "--until", until, "--filter", "container=probed", "--format", "{{.Action}}")
                .stdout();
        assertThat(events).contains("health_status: unhealthy", "health_status: healthy");
        assertThat(events.lines().filter(l -> l.equals("health_status: healthy")).count()).as("only changes are events").isEqualTo(1);
        cli.ok("stop", "-t", "0", "probed");
        int probes = health("probed").get("Log").size();
        String last = health("probed").get("Log").get(probes - 1).get("End").asText();
        Thread.sleep(2500);
        assertThat(health("probed").get("Log").get(probes - 1).get("End").asText()).as("no probes once stopped").isEqualTo(last);
        assertThat(cli.ok("ps", "-aq", "--filter", "health=none", "--filter", "name=probed").stdout().trim()).isNotEmpty();
    }

    @Test
    void aProbeThatOutlivesItsTimeoutFailsAndTheStartPeriodForgivesFailures() throws Exception {
        cli.ok("run", "-d", "--name", "slow", "--health-cmd", "sleep 5", "--health-interval", "1s", "--health-timeout", "300ms",
                "--health-retries", "1", "busybox", "sleep", "300");
        JsonNode h = awaitStatus("slow", "unhealthy");
        assertThat(h.get("Log").get(0).get("ExitCode").asInt()).isEqualTo(-1);
        assertThat(h.get("Log").get(0).get("Output").asText()).isEqualTo("Health check exceeded timeout (300ms)");
        assertThat(cli.ok("exec", "slow", "sh", "-c", "ps | grep -c '[s]leep 5' || true").stdout().trim())
                .as("the timed-out probe was killed").isIn("0", "1");
        cli.ok("run", "-d", "--name", "graceful", "--health-cmd", "false", "--health-interval", "1s", "--health-retries", "1",
                "--health-start-period", "30s", "--health-start-interval", "200ms", "busybox", "sleep", "300");
        Thread.sleep(2000);
        JsonNode g = health("graceful");
        assertThat(g.get("Status").asText()).as("failures in the start period do not count").isEqualTo("starting");
        assertThat(g.get("FailingStreak").asInt()).isZero();
        assertThat(g.get("Log").size()).as("the start interval, not the interval").isGreaterThanOrEqualTo(4);
        String bad = RawHttp.unix(cli.socket(), "POST /v1.45/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
                + "Content-Length: 75\r\n\r\n{\"Image\":\"busybox\",\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"],\"Interval\":500000}}");
        assertThat(RawHttp.status(bad)).isEqualTo(400);
        assertThat(RawHttp.body(bad)).contains("Interval in Healthcheck cannot be less than 1ms");
    }
}
