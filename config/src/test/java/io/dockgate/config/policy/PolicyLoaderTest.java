package io.dockgate.config.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dockgate.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyLoaderTest {
    @TempDir
    Path tmp;

    private static Policy yaml(String text) {
        return PolicyLoader.parse(text, "p.yaml", false, Optional.empty());
    }

    private static void refused(String text, String message) {
        assertThatThrownBy(() -> yaml(text)).isInstanceOf(ConfigException.class).hasMessage(message);
    }

    @Test
    void theShippedExampleIsValid() {
        Path example = Path.of("examples/policy.yaml");
        Policy p = PolicyLoader.load(example);
        assertThat(p.bindings()).extracting(Policy.Binding::name).containsExactly("admins", "operators", "ci", "viewers");
        Policy.Binding ci = p.bindings().get(2);
        assertThat(ci.scope()).isEqualTo(Policy.Scope.OWN);
        assertThat(ci.constraints().memory().required()).isTrue();
        assertThat(ci.constraints().memory().max()).hasValue(512L << 20);
        assertThat(ci.constraints().cpus().max()).hasValue(2_000_000_000L);
        assertThat(ci.constraints().root()).isFalse();
        assertThat(ci.constraints().registries()).containsExactly("docker.io", "registry.example.com");
        assertThat(ci.limits().containers()).hasValue(5);
        assertThat(ci.shared()).containsExactly("busybox:*");
        assertThat(p.bindings().get(1).shared()).containsExactly("busybox:*", "library/*");
        assertThat(p.bindings().get(0).shared()).isEmpty();
        assertThat(p.bindings().get(0).constraints().unrestricted()).isTrue();
        assertThat(p.bindings().get(0).operations()).isEqualTo(Operations.names());
        assertThat(p.bindings().get(1).operations()).contains("container.exec", "container.inspect.env").doesNotContain("image.load");
    }

    @Test
    void jsonPoliciesReadTheSame() throws Exception {
        Path file = tmp.resolve("p.json");
        Files.writeString(file, """
                {"mode": "dry-run", "roles": {"r": ["container.*"]},
                 "bindings": [{"name": "b", "subjects": [{"uid": 1000}, {"fingerprint": "AB:%s"}], "roles": ["r"]}]}
                """.formatted("cd".repeat(31)));
        Policy p = PolicyLoader.load(file);
        assertThat(p.mode()).isEqualTo(Policy.Mode.DRY_RUN);
        assertThat(p.bindings().get(0).operations()).contains("container.create", "container.archive.get").doesNotContain("exec.start");
        assertThat(p.bindings().get(0).subjects().get(1).fingerprint()).hasValue("ab" + "cd".repeat(31));
        assertThat(p.bindings().get(0).constraints()).isEqualTo(Policy.Constraints.defaults());
    }

    @Test
    void errorsNameTheLineAndTheField() {
        refused("bindings:\n  - name: b\n    subjects: [{user: a}]\n    operations: [container.craete]\n",
                "p.yaml:4: bindings[0].operations[0]: unknown operation \"container.craete\" (see docs/security.md, operation catalog)");
        refused("bindings:\n  - name: b\n    subjects: [{user: a}]\n    roles: [nope]\n", "p.yaml:4: bindings[0].roles[0]: unknown role \"nope\"");
        refused("bindings:\n  - name: b\n    subjects: [{}]\n    operations: ['*']\n",
                "p.yaml:3: bindings[0].subjects[0]: an empty subject would match everyone: name at least one condition (user: \"*\" for any caller)");
        refused("bindings:\n  - name: b\n    subjects: [{user: a}]\n    operations: ['*']\n    constraints:\n      privileged: yes please\n",
                "p.yaml:6: bindings[0].constraints.privileged: must be true or false");
        refused("bindings:\n  - name: b\n    subjects: [{user: a}]\n    operations: ['*']\n    constrains: {}\n",
                "p.yaml:5: bindings[0].constrains: unknown field (expected one of constraints, limits, name, operations, roles, scope, shared, subjects)");
        refused("bindings:\n  - name: b\n    subjects: [{user: a}]\n    operations: ['*']\n    shared: [busybox]\n",
                "p.yaml:5: bindings[0].shared: shared names the images a binding with scope: own shares; without it every image is seen");
        refused("bindings:\n  - name: b\n    subjects: [{user: a}]\n    operations: ['*']\n    scope: own\n    shared: [\"busy box\"]\n",
                "p.yaml:6: bindings[0].shared[0]: an image pattern has letters, digits, . _ / : @ - and * only");
        refused("bindings:\n  - name: b\n    name: c\n", "p.yaml:3: bindings[0].name: given twice");
        refused("bindings:\n  - name: b\n    subjects: [{cn: a, uid: 3}]\n    operations: ['*']\n",
                "p.yaml:3: bindings[0].subjects[0]: mixes certificate fields (cn, o, ou, san, fingerprint) with Unix fields (uid, gid): no caller has both");
        refused("bindings:\n  - name: b\n    subjects: [{user: a}]\n    operations: ['*']\n    constraints:\n      resources:\n        memory: {max: lots}\n",
                "p.yaml:7: bindings[0].constraints.resources.memory.max: invalid size \"lots\": a number with an optional unit b, k, m, g or t");
        refused("bindings:\n  - name: b\n    subjects: [{user: a}]\n    operations: ['*']\n    constraints:\n      bindMounts: [{path: /srv/../etc}]\n",
                "p.yaml:6: bindings[0].constraints.bindMounts[0].path: must be an absolute, normalised host path");
        refused("bindings:\n  - name: b\n    subjects: [{user: a}]\n    operations: ['*']\n    scope: mine\n",
                "p.yaml:5: bindings[0].scope: must be all or own, not \"mine\"");
        refused("bindings:\n  - name: b\n    subjects: [{user: a}]\n    operations: ['*']\n  - name: b\n    subjects: [{user: c}]\n    operations: ['*']\n",
                "p.yaml:5: bindings[1]: binding name \"b\" is used twice");
        refused("bindings:\n  - name: b\n    subjects: [{user: a}]\n    operations: ['*']\n    constraints: {unrestricted: true, privileged: true}\n",
                "p.yaml:5: bindings[0].constraints: unrestricted lifts every constraint: give it alone");
        refused("bindings:\n  - name: b\n    subjects: [{user: a}]\n", "p.yaml:2: bindings[0]: grants nothing: give roles or operations");
        refused("bindings:\n  - name: b\n    subjects: [{user: a}]\n    operations: ['*']\n    constraints:\n      registries: []\n",
                "p.yaml:6: bindings[0].constraints.registries: an empty list would allow no registry: leave registries out to allow any");
        refused("bindings:\n  - name: b\n    subjects: [{user: a}]\n    operations: ['*']\n    constraints:\n      registries: [\"u@evil\"]\n",
                "p.yaml:6: bindings[0].constraints.registries[0]: a registry pattern is a host with an optional port (docker.io, registry.example.com:5000, *.example.com)");
        refused("mode: permissive\nbindings: []\n", "p.yaml:1: mode: must be enforce or dry-run, not \"permissive\"");
        refused("roles: {}\n", "p.yaml:1: policy: bindings is required (a policy without bindings denies everything)");
        assertThatThrownBy(() -> yaml("bindings: [\n")).isInstanceOf(ConfigException.class).hasMessageStartingWith("p.yaml:").hasMessageContaining(": not valid YAML: ").hasMessageNotContaining("\n");
        assertThatThrownBy(() -> PolicyLoader.parse("{\"bindings\": []}}", "p.json", true, Optional.empty()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("p.json:1:");
    }

    @Test
    void operationPatternsExpandOverTheCatalog() {
        assertThat(Operations.expand("*")).hasSize(Operations.names().size());
        assertThat(Operations.expand("exec.*")).containsExactly("exec.inspect", "exec.resize", "exec.start");
        assertThat(Operations.expand("container.archive.*")).containsExactly("container.archive.get", "container.archive.put",
                "container.archive.stat");
        assertThat(Operations.expand("containers.*")).isEmpty();
        assertThat(Operations.ofKind(Operations.Kind.EXFILTRATION)).contains("container.logs", "container.attach", "container.exec",
                "exec.start", "container.archive.get", "container.export", "container.inspect.env", "image.save");
    }
}
