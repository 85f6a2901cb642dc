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

        /** "fine-period": 1 CPU as a 1 ms quota in a 1 ms period. */
        @Override
        public Optional<ContainerSpec.Host> containerHost(String reference) {
            return switch (reference) {
                case "fine-period" -> Optional.of(ContainerSpec.Host.builder().cpuQuota(1000).cpuPeriod(1000).memory(64L << 20).build());
                case "bridged" -> Optional.of(ContainerSpec.Host.builder().networkMode("bridge").build());
                case "on-host" -> Optional.of(ContainerSpec.Host.builder().networkMode("host").build());
                case "via-on-host" -> Optional.of(ContainerSpec.Host.builder().networkMode("container:on-host").build());
                case "loop" -> Optional.of(ContainerSpec.Host.builder().networkMode("container:loop").build());
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

    @Test
    void anotherContainersNetworkIsTheHostsWhenThatContainerIsOnTheHostsNetwork() throws Exception {
        assertThat(check(ContainerSpec.Host.builder().networkMode("container:bridged"))).as("a bridged container's namespace").isEmpty();
        assertThat(check(ContainerSpec.Host.builder().networkMode("container:on-host")))
                .hasValueSatisfying(why -> assertThat(why).contains("the host's network namespace is not allowed", "shares the host's"));
        assertThat(check(ContainerSpec.Host.builder().networkMode("container:via-on-host"))).as("followed through a second container")
                .isPresent();
        assertThat(check(ContainerSpec.Host.builder().networkMode("container:missing"))).as("one that cannot be followed").isPresent();
        assertThat(check(ContainerSpec.Host.builder().networkMode("container:loop"))).as("a loop ends the following").isPresent();
        assertThat(check(ContainerSpec.Host.builder().networkMode("host"))).isPresent();
    }

    private static final Policy.Constraints LIMITS = PolicyLoader.parse("""
            bindings:
              - name: ci
                subjects: [{group: ci}]
                operations: [container.create, container.update]
                constraints:
                  resources:
                    cpus: {max: 1}
                    memory: {max: 256m}
            """, "p.yaml", false, Optional.empty()).bindings().get(0).constraints();

    private static Optional<String> update(String json) throws Exception {
        ContainerSpec.Host changes = io.dockgate.gateway.api.OperationTable.CONTAINER_UPDATE.model() == null ? null
                : (ContainerSpec.Host) io.dockgate.gateway.api.OperationTable.CONTAINER_UPDATE.model()
                        .apply(new ObjectMapper().readTree(json));
        RequestFacts facts = new RequestFacts(new ObjectMapper().readTree(json), changes, Map.of("id", "fine-period"), ENGINE);
        return ConstraintChecker.check(ConstraintChecker.UPDATE, LIMITS, facts);
    }

    @Test
    void anUpdateIsJudgedOnTheResourcesItLeavesTheContainerWith() throws Exception {
        // a quota alone keeps the container's 1 ms period: 100 ms of quota per 1 ms is 100 CPUs, not 1
        assertThat(update("{\"CpuQuota\":100000}")).hasValueSatisfying(why -> assertThat(why).contains("cpus limit 100000000000"));
        assertThat(update("{\"CpuQuota\":500}")).isEmpty();
        assertThat(update("{\"CpuPeriod\":100}")).as("a shorter period is more CPU").isPresent();
        assertThat(update("{\"NanoCpus\":500000000}")).isEmpty();
        assertThat(update("{\"NanoCpus\":1500000000}")).isPresent();
        assertThat(update("{\"Memory\":536870912}")).hasValueSatisfying(why -> assertThat(why).contains("memory limit"));
        assertThat(update("{\"RestartPolicy\":{\"Name\":\"always\"}}")).as("resources not changed are not judged").isEmpty();
    }

    @Test
    void createAndUpdateShareOneCpuFormula() throws Exception {
        assertThat(ContainerSpec.Host.builder().cpuQuota(50_000).build().effectiveNanoCpus()).as("kernel default period")
                .isEqualTo(500_000_000L);
        assertThat(ContainerSpec.Host.builder().cpus(1_500_000_000L).build().effectiveNanoCpus()).isEqualTo(1_500_000_000L);
        assertThat(check(ContainerSpec.Host.builder().cpuQuota(300_000))).isEmpty(); // no cpus constraint in CONSTRAINTS
        ContainerSpec spec = ContainerSpec.builder("busybox").host(ContainerSpec.Host.builder().cpuQuota(300_000).memory(64L << 20).build())
                .build();
        RequestFacts facts = new RequestFacts(new ObjectMapper().readTree("{\"Image\":\"busybox\"}"), spec, Map.of(), ENGINE);
        assertThat(ConstraintChecker.check(ConstraintChecker.CREATE, LIMITS, facts)).as("3 CPUs over the default period")
                .hasValueSatisfying(why -> assertThat(why).contains("cpus limit 3000000000"));
    }
}
