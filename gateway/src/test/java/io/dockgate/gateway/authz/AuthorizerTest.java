package io.dockgate.gateway.authz;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.config.policy.Policy;
import io.dockgate.config.policy.PolicyLoader;
import io.dockgate.engine.container.ContainerSpec;
import io.dockgate.gateway.auth.PeerCredentials;
import io.dockgate.gateway.auth.Principal;
import io.dockgate.gateway.auth.Transport;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Decisions on their own, with the engine's facts given: binding order, scopes, foreign objects, dry run. */
class AuthorizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Policy POLICY = PolicyLoader.parse("""
            bindings:
              - name: tenants
                subjects: [{group: tenants}]
                operations: [container.*, volume.*]
                scope: own
                constraints: {namespaces: [network, pid]}
                limits: {containers: 2}
              - name: auditors
                subjects: [{group: auditors}]
                operations: [container.list, container.inspect]
              - name: local-root
                subjects: [{uid: 0}]
                operations: ["*"]
                constraints: {unrestricted: true}
            """, "p.yaml", false, Optional.empty());

    private static Principal tls(String name, String... groups) {
        return new Principal(Transport.TLS, name, List.of(groups), Optional.empty(), Optional.empty());
    }

    /** Engine facts: containers c-alice (tls:alice), c-bob (tls:bob); volume v-bob (tls:bob). */
    private static final RequestFacts.Lookups ENGINE = new RequestFacts.Lookups() {
        @Override
        public Optional<String> imageUser(String reference) {
            return Optional.of("");
        }

        @Override
        public Optional<List<String>> imageTags(String reference) {
            return Optional.of(List.of("busybox:latest"));
        }

        @Override
        public Optional<String> containerUser(String reference) {
            return Optional.of("");
        }

        @Override
        public Optional<RequestFacts.ExecView> exec(String execId) {
            return Optional.empty();
        }

        @Override
        public Optional<String> containerOwner(String reference) {
            return Map.of("c-alice", "tls:alice", "c-bob", "tls:bob").entrySet().stream()
                    .filter(e -> e.getKey().equals(reference)).map(Map.Entry::getValue).findFirst();
        }

        @Override
        public Optional<Map<String, String>> volumeLabels(String name) {
            return name.equals("v-bob") ? Optional.of(Map.of(Authorizer.OWNER_LABEL, "tls:bob")) : Optional.empty();
        }

        @Override
        public long ownedContainers(String owner) {
            return owner.equals("tls:alice") ? 1 : 2;
        }
    };

    private static RequestFacts create(String hostConfig, ContainerSpec.Mount... mounts) throws Exception {
        JsonNode json = JSON.readTree("{\"Image\":\"busybox\",\"HostConfig\":" + hostConfig + "}");
        ContainerSpec spec = ContainerSpec.builder("busybox").host(ContainerSpec.Host.builder().mounts(List.of(mounts)).build()).build();
        return new RequestFacts(json, spec, Map.of(), ENGINE);
    }

    private static Decision decide(Authorizer a, Principal p, String operation, RequestFacts facts, Target target) {
        return a.decide(a.candidates(p, operation), p, operation, io.dockgate.gateway.api.OperationTable.byName(operation).judge(), facts, target);
    }

    @Test
    void ownScopeReachesOnlyOwnTargetsAndAnswersAsIfMissing() {
        Authorizer a = new Authorizer(Optional.of(POLICY), false);
        Principal alice = tls("alice", "tenants");
        RequestFacts none = RequestFacts.none(ENGINE);
        assertThat(decide(a, alice, "container.stop", none, Target.ownedBy("tls:alice")).allowed()).isTrue();
        Decision others = decide(a, alice, "container.stop", none, Target.ownedBy("tls:bob"));
        assertThat(others.refuses()).isTrue();
        assertThat(others.notFound()).isTrue();
        assertThat(others.reason()).isEqualTo("the container belongs to another owner");
        assertThat(decide(a, alice, "container.stop", none, Target.ownedBy(null)).notFound()).as("no owner label: not hers").isTrue();
        assertThat(decide(a, alice, "container.stop", none, Target.missing()).notFound()).isTrue();
        Decision list = decide(a, alice, "container.list", none, Target.NONE);
        assertThat(list.allowed()).isTrue();
        assertThat(list.ownScope()).isTrue();
        // an identity in both groups: the list is not filtered, because a binding shows everything
        Decision both = decide(a, tls("carol", "tenants", "auditors"), "container.list", none, Target.NONE);
        assertThat(both.rule()).isEqualTo("auditors");
        assertThat(both.ownScope()).isFalse();
    }

    @Test
    void foreignVolumesAndNamespacesAreRefusedUnderOwnScope() throws Exception {
        Authorizer a = new Authorizer(Optional.of(POLICY), false);
        Principal alice = tls("alice", "tenants");
        ContainerSpec.Mount bobs = new ContainerSpec.Mount(ContainerSpec.Mount.VOLUME, "v-bob", "/d", false);
        ContainerSpec.Mount fresh = new ContainerSpec.Mount(ContainerSpec.Mount.VOLUME, "v-new", "/d", false);
        assertThat(decide(a, alice, "container.create", create("{}", bobs), Target.NONE).reason()).contains("the volume v-bob is not yours");
        assertThat(decide(a, alice, "container.create", create("{}", fresh), Target.NONE).allowed()).isTrue();
        assertThat(decide(a, alice, "container.create", create("{\"NetworkMode\":\"container:c-bob\"}"), Target.NONE).reason())
                .contains("HostConfig.NetworkMode joins a container that is not yours");
        assertThat(decide(a, alice, "container.create", create("{\"PidMode\":\"container:c-alice\"}"), Target.NONE).allowed()).isTrue();
        assertThat(decide(a, alice, "container.create", create("{\"PidMode\":\"container:nope\"}"), Target.NONE).allowed()).isFalse();
        assertThat(decide(a, alice, "container.create", create("{\"IpcMode\":\"host\"}"), Target.NONE).reason())
                .contains("sharing the ipc namespace is not allowed");
        // the quota: bob already has two
        assertThat(decide(a, tls("bob", "tenants"), "container.create", create("{}"), Target.NONE).reason())
                .contains("container quota of 2 reached");
    }

    @Test
    void unknownCallersAndOperationsAreDeniedAndDryRunOnlyRecords() throws Exception {
        Authorizer a = new Authorizer(Optional.of(POLICY), false);
        Principal stranger = tls("eve", "nobody");
        Authorizer.Candidates c = a.candidates(stranger, "container.list");
        assertThat(a.early(c, stranger, "container.list")).hasValueSatisfying(d -> {
            assertThat(d.refuses()).isTrue();
            assertThat(d.rule()).isEqualTo("default-deny");
        });
        assertThat(decide(a, tls("al", "auditors"), "container.logs", RequestFacts.none(ENGINE), Target.ownedBy("x")).refuses()).isTrue();
        Principal root = Principal.ofPeer(new PeerCredentials(1, 0, 0), "root", List.of("root"));
        assertThat(decide(a, root, "container.create", create("{\"Privileged\":true}"), Target.NONE).rule()).isEqualTo("local-root");
        assertThat(decide(a, tls("root", "x"), "system.ping", RequestFacts.none(ENGINE), Target.NONE).refuses())
                .as("uid subjects never match a certificate").isTrue();

        Authorizer dry = new Authorizer(Optional.of(POLICY), true);
        Decision d = decide(dry, stranger, "container.create", create("{}"), Target.NONE);
        assertThat(d.allowed()).isFalse();
        assertThat(d.refuses()).isFalse();
        assertThat(d.decisionWord()).isEqualTo("would-deny");

        Authorizer open = new Authorizer(Optional.empty(), false);
        assertThat(decide(open, stranger, "container.create", create("{\"Privileged\":true}"), Target.NONE).rule()).isEqualTo("no-policy");
    }
}
