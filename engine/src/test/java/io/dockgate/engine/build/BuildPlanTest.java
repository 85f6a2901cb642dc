package io.dockgate.engine.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.engine.EngineException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a Dockerfile would start from and run as, read without building (upstream mode's judge). */
class BuildPlanTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static List<String> walk(String dockerfile, Map<String, String> args, String target, Map<String, String> configs) {
        List<String> seen = new ArrayList<>();
        BuildRequest r = new BuildRequest(List.of(), "Dockerfile", args, Map.of(), target, false, false, true, false, false,
                "", BuildRequest.Limits.NONE, "", "", null);
        BuildPlan.walk(dockerfile, r, ref -> {
            try {
                return configs.containsKey(ref) ? JSON.readTree(configs.get(ref)) : null;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, new BuildPlan.Judge() {
            @Override
            public void base(String reference) {
                seen.add("base " + reference);
            }

            @Override
            public void run(String user) {
                seen.add("run as '" + user + "'");
            }
        });
        return seen;
    }

    @Test
    void basesAndRunUsersFollowArgsStagesUsersAndTriggers() {
        String dockerfile = """
                ARG BASE=busybox
                FROM ${BASE}:1 AS builder
                RUN make
                USER 1000
                RUN make install
                FROM builder AS second
                RUN still-1000
                COPY --from=tools:2 /bin/x /x
                COPY --from=builder /y /y
                FROM withtriggers
                RUN after-triggers
                """;
        List<String> seen = walk(dockerfile, Map.of("BASE", "other"), "", Map.of(
                "other:1", "{\"User\":\"\"}",
                "withtriggers", "{\"User\":\"app\",\"OnBuild\":[\"USER root\",\"RUN trigger\"]}"));
        assertThat(seen).containsExactly("base other:1", "run as ''", "run as '1000'", "run as '1000'", "base tools:2",
                "base withtriggers", "run as 'root'", "run as 'root'");
    }

    @Test
    void theTargetEndsTheWalkAndUsersExpandVariables() {
        String dockerfile = """
                FROM busybox AS a
                ENV WHO=nobody
                USER ${WHO}
                RUN one
                FROM evil AS b
                RUN two
                """;
        assertThat(walk(dockerfile, Map.of(), "a", Map.of())).containsExactly("base busybox", "run as 'nobody'");
        assertThatThrownBy(() -> walk(dockerfile, Map.of(), "c", Map.of())).isInstanceOf(EngineException.class)
                .hasMessageContaining("failed to reach build target c");
        assertThatThrownBy(() -> walk("RUN x\n", Map.of(), "", Map.of())).hasMessageContaining("instruction before FROM");
    }
}
