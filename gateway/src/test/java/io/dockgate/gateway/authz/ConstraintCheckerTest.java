package io.dockgate.gateway.authz;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.config.policy.Policy;
import io.dockgate.config.policy.PolicyLoader;
import io.dockgate.engine.container.ContainerSpec;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Constraints judge what will run, including what a body brings in indirectly: the bind mounts that
 * VolumesFrom copies from another container are held to the binding's bindMounts like the body's own
 * (under a binding whose scope reaches other owners' containers too), and a cgroup parent needs its grant.
 */
class ConstraintCheckerTest {
    private static final Policy.Constraints CONSTRAINTS = PolicyLoader.parse("""
            bindings:
              - name: builders
                subjects: [{group: builders}]
                operations: [container.create]
                constraints:
                  bindMounts: [{path: /srv/shared, readOnly: true}]
            """, "p.yaml", false, Optional.empty()).bindings().get(0).constraints();

    /** Containers "etc-holder" (a read-write bind of /etc) and "shared-holder" (a read-only bind of /srv/shared). */
    private static final RequestFacts.Lookups ENGINE = new RequestFacts.Lookups() {
        @Override
        public Optional<List<ContainerSpec.Mount>> containerMounts(String reference) {
            return switch (reference) {
                case "etc-holder" -> Optional.of(List.of(new ContainerSpec.Mount(ContainerSpec.Mount.BIND, "/etc", "/host-etc", false)));
                case "shared-holder" -> Optional.of(List.of(new ContainerSpec.Mount(ContainerSpec.Mount.BIND, "/srv/shared", "/s", true)));
                default -> Optional.empty();
            };
        }

        // the rest as no engine at all
        @Override
        public Optional<String> imageUser(String reference) {
            return NONE.imageUser(reference);
        }

        @Override
        public Optional<List<String>> imageTags(String reference) {
            return NONE.imageTags(reference);
        }

        @Override
        public Optional<String> containerUser(String reference) {
            return NONE.containerUser(reference);
        }

        @Override
        public Optional<RequestFacts.ExecView> exec(String execId) {
            return NONE.exec(execId);
        }

        @Override
        public Optional<String> containerOwner(String reference) {
            return NONE.containerOwner(reference);
        }

        @Override
        public Optional<Map<String, String>> volumeLabels(String name) {
            return NONE.volumeLabels(name);
        }

        @Override
        public long ownedContainers(String owner) {
            return NONE.ownedContainers(owner);
        }
    };

    private static Optional<String> check(ContainerSpec.HostBuilder host) throws Exception {
        ContainerSpec spec = ContainerSpec.builder("busybox").host(host.build()).build();
        RequestFacts facts = new RequestFacts(new ObjectMapper().readTree("{\"Image\":\"busybox\"}"), spec, Map.of(), ENGINE);
        return ConstraintChecker.check(ConstraintChecker.CREATE, CONSTRAINTS, facts);
    }

    @Test
    void bindsCopiedByVolumesFromAreJudgedLikeTheBodysOwn() throws Exception {
        assertThat(check(ContainerSpec.Host.builder().volumesFrom(List.of("etc-holder"))))
                .hasValueSatisfying(why -> assertThat(why).contains("host path /etc is not allowed", "through VolumesFrom etc-holder"));
        assertThat(check(ContainerSpec.Host.builder().volumesFrom(List.of("etc-holder:ro")))).isPresent();
        assertThat(check(ContainerSpec.Host.builder().volumesFrom(List.of("shared-holder")))).isEmpty();
        assertThat(check(ContainerSpec.Host.builder().volumesFrom(List.of("shared-holder:rw"))))
                .hasValueSatisfying(why -> assertThat(why).contains("may only be mounted read-only"));
        assertThat(check(ContainerSpec.Host.builder().volumesFrom(List.of("holder:bad")))).hasValue("invalid VolumesFrom holder:bad");
    }

    @Test
    void aCgroupParentNeedsItsGrantAndOomExemptionsTheirs() throws Exception {
        assertThat(check(ContainerSpec.Host.builder().cgroupParent("/system.slice")))
                .hasValueSatisfying(why -> assertThat(why).contains("cgroup parent is not allowed"));
        assertThat(check(ContainerSpec.Host.builder().oomScoreAdj(-500))).hasValueSatisfying(why -> assertThat(why).contains("OOM killer"));
        assertThat(check(ContainerSpec.Host.builder().oomScoreAdj(500))).isEmpty();
    }
}
