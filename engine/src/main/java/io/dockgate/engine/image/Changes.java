package io.dockgate.engine.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.engine.EngineException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The Dockerfile instructions {@code docker commit --change} and {@code import --change} may carry (CMD,
 * ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR), applied to an
 * image's run configuration by the builder's own rules (JSON and shell forms, quotes, variables).
 */
public final class Changes {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Changes() {
    }

    /** Instructions {@code docker commit --change} and {@code import --change} take, as dockerd lists them. */
    private static final java.util.Set<String> ALLOWED = java.util.Set.of("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL",
            "ONBUILD", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR");

    /**
     * Applies the changes as the builder applies those instructions (one Dockerfile line each, variables
     * of the configuration's environment expanded).
     */
    public static void apply(ObjectNode config, List<String> changes) {
        for (String change : changes) {
            String line = change.strip();
            if (line.isEmpty()) {
                continue;
            }
            io.dockgate.engine.build.Dockerfile.Instruction in;
            try {
                in = io.dockgate.engine.build.Dockerfile.instruction(line, 1, '\\');
            } catch (EngineException e) {
                String word = line.split("\\s+")[0].toUpperCase(Locale.ROOT);
                throw EngineException.invalid(word + " is not a valid change command");
            }
            if (!ALLOWED.contains(in.keyword())) {
                throw EngineException.invalid(in.keyword() + " is not a valid change command");
            }
            io.dockgate.engine.build.ShellLex lex = new io.dockgate.engine.build.ShellLex('\\', name -> env(config, name));
            io.dockgate.engine.build.Instructions.apply(config, in, lex, '\\', true);
        }
    }

    private static String env(ObjectNode config, String name) {
        for (JsonNode e : config.path("Env")) {
            String s = e.asText();
            if (s.startsWith(name + "=")) {
                return s.substring(name.length() + 1);
            }
        }
        return null;
    }
}
