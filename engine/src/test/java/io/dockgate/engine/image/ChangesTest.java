package io.dockgate.engine.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** docker import --change instructions, as Docker parses them. */
class ChangesTest {
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void everyInstructionInBothForms() {
        ObjectNode c = json.createObjectNode();
        Changes.apply(c, List.of("CMD echo hi", "ENTRYPOINT [\"/bin/sh\", \"-c\"]", "ENV A=1 B=\"two words\" C=x\\ y",
                "ENV D old-style value", "ENV A=3", "WORKDIR /srv", "USER app:app", "EXPOSE 80 53/udp",
                "LABEL org.example.team=\"core\" version=1", "VOLUME [\"/data\"]", "VOLUME /cache", "STOPSIGNAL SIGINT"));
        assertThat(c.get("Cmd").toString()).isEqualTo("[\"/bin/sh\",\"-c\",\"echo hi\"]");
        assertThat(c.get("Entrypoint").toString()).isEqualTo("[\"/bin/sh\",\"-c\"]");
        assertThat(c.get("Env").toString()).isEqualTo("[\"B=two words\",\"C=x y\",\"D=old-style value\",\"A=3\"]");
        assertThat(c.get("WorkingDir").asText()).isEqualTo("/srv");
        assertThat(c.get("User").asText()).isEqualTo("app:app");
        assertThat(c.get("ExposedPorts").fieldNames()).toIterable().containsExactly("80/tcp", "53/udp");
        assertThat(c.get("Labels").get("org.example.team").asText()).isEqualTo("core");
        assertThat(c.get("Labels").get("version").asText()).isEqualTo("1");
        assertThat(c.get("Volumes").fieldNames()).toIterable().containsExactly("/data", "/cache");
        assertThat(c.get("StopSignal").asText()).isEqualTo("SIGINT");
    }

    @Test
    void badInstructionsAreRefused() {
        ObjectNode c = json.createObjectNode();
        assertThatThrownBy(() -> Changes.apply(c, List.of("RUN rm -rf /"))).hasMessage("RUN is not a valid change command");
        assertThatThrownBy(() -> Changes.apply(c, List.of("CMD"))).hasMessageContaining("requires at least one argument");
        assertThatThrownBy(() -> Changes.apply(c, List.of("EXPOSE eighty"))).hasMessageContaining("invalid containerPort: eighty");
        assertThatThrownBy(() -> Changes.apply(c, List.of("LABEL novalue"))).hasMessageContaining("LABEL must have two arguments");
        assertThatThrownBy(() -> Changes.apply(c, List.of("FROBNICATE x"))).hasMessage("FROBNICATE is not a valid change command");
        Changes.apply(c, List.of("CMD [\"unterminated\""));
        assertThat(c.get("Cmd").toString()).as("not JSON: the shell form, as dockerd").isEqualTo("[\"/bin/sh\",\"-c\",\"[\\\"unterminated\\\"\"]");
    }

    @Test
    void healthchecksAndTriggersAsTheBuilderReadsThem() {
        ObjectNode c = json.createObjectNode();
        Changes.apply(c, List.of("HEALTHCHECK --interval=5s --retries=2 CMD curl -f http://localhost/", "ONBUILD RUN make",
                "ENV BASE=/opt", "WORKDIR $BASE/app"));
        assertThat(c.get("Healthcheck").toString())
                .isEqualTo("{\"Test\":[\"CMD-SHELL\",\"curl -f http://localhost/\"],\"Interval\":5000000000,\"Retries\":2}");
        assertThat(c.get("OnBuild").toString()).isEqualTo("[\"RUN make\"]");
        assertThat(c.get("WorkingDir").asText()).isEqualTo("/opt/app");
    }
}
