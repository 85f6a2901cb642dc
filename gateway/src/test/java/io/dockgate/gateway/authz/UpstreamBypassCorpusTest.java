package io.dockgate.gateway.authz;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.gateway.testing.RawHttp;
import org.junit.jupiter.api.Test;

/**
 * The whole bypass corpus against dockgate in upstream mode, guarding a private dockerd 20.10: every
 * attack refused and audited as in the embedded mode; then, as the upstream's root (its own socket),
 * nothing forbidden exists there: no privileged container, no host path beyond the one the policy
 * allows, no added capability, no host namespace, no volume of another's name.
 */
@AuthzFixtureTest.UpstreamMode
class UpstreamBypassCorpusTest extends BypassCorpusTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A field the engine might know and dockgate does not (a newer API's, a typo of the client's) would reach
     * the upstream unjudged: refused, naming it, even for the administrator.
     */
    @Test
    void aFieldDockgateDoesNotKnowIsRefused() throws Exception {
        for (String body : new String[] {
            withHost("{\"FutureHostAccess\":\"/\"}"),
            "{\"Image\":\"busybox\",\"Cmd\":[\"true\"],\"NewTopLevel\":{\"Path\":\"/\"}}"}) {
            String r = f.raw("alice", create(body));
            assertThat(RawHttp.status(r)).as(r).isEqualTo(400);
            assertThat(RawHttp.body(r)).contains("is not a field dockgate knows");
            String root = RawHttp.unix(f.socket(), f.versioned(create(body)));
            assertThat(RawHttp.status(root)).as(root).isEqualTo(400);
        }
        String exec = RawHttp.unix(f.socket(), f.versioned(post("/v1.45/containers/a1/exec", "{\"Cmd\":[\"id\"],\"Future\":1}")));
        assertThat(RawHttp.status(exec)).as(exec).isEqualTo(400);
        // the owner label of upstream mode is the daemon's to set, in any case
        String spoofed = f.raw("alice", create("{\"Image\":\"busybox\",\"Labels\":{\"IO.dockgate.upstream.OWNER\":\"tls:bob\"}}"));
        assertThat(RawHttp.status(spoofed)).as(spoofed).isEqualTo(403);
        assertThat(RawHttp.body(spoofed)).contains("is set by the daemon");
    }

    @Test
    void nothingForbiddenExistsOnTheUpstream() throws Exception {
        String list = RawHttp.unixGet(f.upstream.socket(), "/v1.41/containers/json?all=1");
        assertThat(RawHttp.status(list)).isEqualTo(200);
        JsonNode containers = JSON.readTree(RawHttp.body(list));
        assertThat(containers.size()).as("the corpus' own containers exist").isGreaterThanOrEqualTo(2);
        for (JsonNode summary : containers) {
            String id = summary.path("Id").asText();
            JsonNode c = JSON.readTree(RawHttp.body(RawHttp.unixGet(f.upstream.socket(), "/v1.41/containers/" + id + "/json")));
            JsonNode h = c.path("HostConfig");
            String name = c.path("Name").asText();
            String owner = c.path("Config").path("Labels").path(io.dockgate.gateway.upstream.Tenancy.OWNER_LABEL).asText("");
            assertThat(owner).as(name + " carries its creator's owner label").isNotEmpty();
            assertThat(h.path("Privileged").asBoolean()).as(name + " privileged").isFalse();
            assertThat(h.path("CapAdd").isNull() || h.path("CapAdd").isEmpty()).as(name + " CapAdd " + h.path("CapAdd")).isTrue();
            for (String mode : new String[] {"NetworkMode", "PidMode", "IpcMode", "UTSMode", "UsernsMode"}) {
                assertThat(h.path(mode).asText("")).as(name + " " + mode).isNotEqualTo("host");
            }
            assertThat(h.path("Devices").isNull() || h.path("Devices").isEmpty()).as(name + " devices").isTrue();
            for (JsonNode m : c.path("Mounts")) {
                if (m.path("Type").asText().equals("bind")) {
                    assertThat(m.path("Source").asText()).as(name + " bind").startsWith(f.shared.toString());
                    assertThat(m.path("RW").asBoolean()).as(name + " bind read-only").isFalse();
                }
            }
        }
    }
}
