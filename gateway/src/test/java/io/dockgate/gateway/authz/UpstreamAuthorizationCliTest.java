package io.dockgate.gateway.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.gateway.testing.DockerCli;
import org.junit.jupiter.api.Test;

/**
 * The docker CLI's authorization and tenancy scenarios against dockgate in upstream mode, guarding a
 * private dockerd 20.10: the same identities and policy, the same answers.
 */
@AuthzFixtureTest.UpstreamMode
class UpstreamAuthorizationCliTest extends AuthorizationCliTest {

    @Test
    void aPrefixOtherOwnersShareIsMissingNotAmbiguous() throws Exception {
        // seventeen containers: some hex digit begins two of them (pigeonhole), so dockerd finds it ambiguous
        java.util.List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 17; i++) {
            ids.add(f.root("create", "--network", "none", "busybox", "true").stdout().trim());
        }
        try {
            String shared = "0123456789abcdef".chars().mapToObj(c -> String.valueOf((char) c))
                    .filter(d -> ids.stream().filter(id -> id.startsWith(d)).count() >= 2).findFirst().orElseThrow();
            DockerCli.Result r = f.as("alice", "container", "inspect", shared);
            assertThat(r.exitCode()).isNotZero();
            assertThat(r.stderr()).contains("No such").doesNotContain("Multiple IDs");
        } finally {
            f.root(java.util.stream.Stream.concat(java.util.stream.Stream.of("rm", "-f"), ids.stream()).toArray(String[]::new));
        }
    }
}
