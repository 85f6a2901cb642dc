package io.dockgate.config.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dockgate.config.ConfigException;
import io.dockgate.config.policy.Policy;
import io.dockgate.config.policy.PolicyLoader;
import java.util.Optional;

/**
 * The policy loader under a coverage-guided fuzzer: any text, as YAML or JSON, is a policy or a
 * {@link ConfigException} that names the file; never another exception, never a policy without bindings'
 * names or with an operation the daemon does not know.
 */
class PolicyLoaderFuzzTest {
    @FuzzTest(maxDuration = "45s")
    void policies(FuzzedDataProvider data) {
        boolean json = data.consumeBoolean();
        String text = data.consumeRemainingAsString();
        Policy policy;
        try {
            policy = PolicyLoader.parse(text, "fuzz.yaml", json, Optional.empty());
        } catch (ConfigException e) {
            assertThat(e.getMessage()).startsWith("fuzz.yaml");
            return;
        }
        for (Policy.Binding b : policy.bindings()) {
            assertThat(b.name()).isNotBlank();
            assertThat(io.dockgate.config.policy.Operations.names()).containsAll(b.operations());
        }
    }
}
