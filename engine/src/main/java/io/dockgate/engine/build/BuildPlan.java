package io.dockgate.engine.build;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.engine.EngineException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * What a Dockerfile would do that a policy judges, read without building: the images it starts from
 * (FROM, and COPY --from naming an image) and the user every RUN step would run as, with the build's
 * arguments, the stages up to the target, the base images' users and ONBUILD triggers, and the ENV,
 * ARG and USER instructions between. Upstream mode judges a build here before the upstream engine
 * builds it; the embedded builder judges the same things as it runs ({@link Builder.BaseImages}).
 */
public final class BuildPlan {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the walk reports, in order; either may refuse by throwing. */
    public interface Judge {
        /** An image the build starts from or copies from. */
        void base(String reference);

        /** A RUN step's user ("" is root). */
        void run(String user);
    }

    private BuildPlan() {
    }

    private static final class Stage {
        final String name;
        final int index;
        ObjectNode config;
        final Map<String, String> args = new LinkedHashMap<>();

        Stage(String name, int index) {
            this.name = name;
            this.index = index;
        }
    }

    /**
     * Walks the Dockerfile.
     *
     * @param imageConfig an image's configuration (its {@code Config}: User, Env, OnBuild), null when unknown
     */
    public static void walk(String dockerfile, BuildRequest r, Function<String, JsonNode> imageConfig, Judge judge) {
        Dockerfile file = Dockerfile.parse(dockerfile);
        char escape = file.escape();
        List<Dockerfile.Instruction> all = file.instructions();
        int last = Builder.lastInstruction(all, r.target(), escape);
        Map<String, String> globalArgs = new LinkedHashMap<>();
        List<Stage> stages = new ArrayList<>();
        Stage stage = null;
        for (int i = 0; i <= last; i++) {
            Dockerfile.Instruction in = all.get(i);
            if (in.keyword().equals("FROM")) {
                stage = from(in, stages, globalArgs, escape, imageConfig, judge);
                stages.add(stage);
                JsonNode triggers = stage.config.get("OnBuild");
                stage.config.putNull("OnBuild");
                if (triggers != null && triggers.isArray()) {
                    for (JsonNode t : triggers) {
                        step(stage, stages, Dockerfile.instruction(t.asText(), 0, escape), r, escape, Map.of(), imageConfig, judge);
                    }
                }
                continue;
            }
            if (stage == null) {
                if (in.keyword().equals("ARG")) {
                    for (Map.Entry<String, String> a : Builder.argDeclarations(in, escape, new ShellLex(escape, globalArgs::get))) {
                        String given = r.buildArgs().get(a.getKey());
                        globalArgs.put(a.getKey(), given != null ? given : a.getValue());
                    }
                    continue;
                }
                throw EngineException.invalid("Dockerfile parse error line " + in.line() + ": "
                        + in.keyword().toLowerCase(Locale.ROOT) + " instruction before FROM is not allowed (only ARG)");
            }
            step(stage, stages, in, r, escape, globalArgs, imageConfig, judge);
        }
        if (stage == null) {
            throw EngineException.invalid("No image was generated. Is your Dockerfile empty?");
        }
    }

    private static Stage from(Dockerfile.Instruction in, List<Stage> stages, Map<String, String> globalArgs, char escape,
                              Function<String, JsonNode> imageConfig, Judge judge) {
        List<String> words = new ShellLex(escape, globalArgs::get).words(in.args());
        if (words.isEmpty() || words.size() != 1 && words.size() != 3 || words.size() == 3 && !words.get(1).equalsIgnoreCase("AS")) {
            throw EngineException.invalid("Dockerfile parse error line " + in.line() + ": FROM requires either one or three arguments");
        }
        Stage stage = new Stage(words.size() == 3 ? words.get(2).toLowerCase(Locale.ROOT) : "", stages.size());
        String base = words.get(0);
        if (base.isEmpty()) {
            throw EngineException.invalid("base name (" + in.args() + ") should not be blank");
        }
        if (base.equalsIgnoreCase("scratch")) {
            stage.config = JSON.createObjectNode();
            return stage;
        }
        for (Stage s : stages) {
            if (!s.name.isEmpty() && s.name.equalsIgnoreCase(base)) {
                stage.config = s.config.deepCopy();
                return stage;
            }
        }
        judge.base(base);
        JsonNode config = imageConfig.apply(base);
        stage.config = config instanceof ObjectNode o ? o.deepCopy() : JSON.createObjectNode();
        return stage;
    }

    private static void step(Stage stage, List<Stage> stages, Dockerfile.Instruction in, BuildRequest r, char escape,
                             Map<String, String> globalArgs, Function<String, JsonNode> imageConfig, Judge judge) {
        ShellLex lex = new ShellLex(escape, name -> lookup(stage, name, r));
        switch (in.keyword()) {
            case "RUN" -> judge.run(stage.config.path("User").asText(""));
            case "COPY", "ADD" -> {
                String from = in.flags().getOrDefault("from", "");
                if (!from.isEmpty() && !isStage(from, stages, stage)) {
                    judge.base(from);
                }
            }
            case "ARG" -> {
                for (Map.Entry<String, String> a : Builder.argDeclarations(in, escape, lex)) {
                    String value = a.getValue();
                    if (value == null && globalArgs.containsKey(a.getKey())) {
                        value = globalArgs.get(a.getKey());
                    }
                    if (r.buildArgs().get(a.getKey()) != null) {
                        value = r.buildArgs().get(a.getKey());
                    }
                    stage.args.put(a.getKey(), value);
                }
            }
            case "FROM" -> throw EngineException.invalid("FROM is not allowed in an ONBUILD trigger");
            default -> Instructions.apply(stage.config, in, lex, escape, false);
        }
    }

    private static boolean isStage(String from, List<Stage> stages, Stage current) {
        for (Stage s : stages) {
            if (s == current) {
                break;
            }
            if (!s.name.isEmpty() && s.name.equalsIgnoreCase(from) || from.matches("\\d+") && Integer.parseInt(from) == s.index) {
                return true;
            }
        }
        return from.matches("\\d+"); // an index that is no earlier stage: the builder refuses it
    }

    private static String lookup(Stage stage, String name, BuildRequest r) {
        String env = Builder.envValue(stage.config, name);
        if (env != null) {
            return env;
        }
        if (stage.args.containsKey(name)) {
            return stage.args.get(name);
        }
        if (Builder.PREDEFINED_ARGS.contains(name)) {
            return r.buildArgs().get(name);
        }
        return null;
    }
}
