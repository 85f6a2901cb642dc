package io.dockgate.engine.build;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.container.ContainerRecord;
import io.dockgate.engine.container.Containers;
import io.dockgate.engine.image.Image;
import io.dockgate.engine.image.ImageStore;
import io.dockgate.engine.image.Reference;
import io.dockgate.engine.snapshot.SnapshotService;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * The classic builder ({@code POST /build} without BuildKit): the Dockerfile's instructions run one by
 * one, each making an image whose ID the client sees (" ---> id"), as dockerd's legacy builder does. RUN
 * runs a container from the current image and commits its writable layer; COPY and ADD write into a
 * snapshot of the current image and commit that; the other instructions change the configuration
 * (an image without a layer). A step whose inputs were seen before (the parent image, the instruction, the
 * build arguments RUN sees, the content COPY reads) takes the image it made then ("Using cache").
 * Multi-stage builds, {@code --target}, {@code COPY --from}, ONBUILD triggers. Nothing of a failed or
 * cancelled build stays but the images its finished steps made (the cache).
 */
public final class Builder {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final Set<String> PREDEFINED_ARGS = Set.of("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
            "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy");

    /** Where the build's messages go: lines of output ("stream"), and the ID of each stage's image ("aux"). */
    public interface Output {
        void stream(String text);

        void aux(String imageId);
    }

    /**
     * What a build needs of its caller: base images (found, or pulled when missing or asked to, with pull
     * progress to the output; refused when the caller may not use them) and a say on each RUN (the user
     * it runs as), so that the policy judges what the Dockerfile asks as it is read.
     */
    public interface BaseImages {
        Image get(String reference, boolean pull, Output out) throws IOException;

        /** Refuses (throws) a RUN step the caller may not run; the user is the configuration's ("" is root). */
        default void beforeRun(String user) {
        }
    }

    /** A RUN step that ended with a non-zero code: dockerd's message, and the code for the client. */
    public static final class StepFailed extends EngineException {
        private final int code;

        public StepFailed(String message, int code) {
            super(ErrorKind.RUNTIME, message);
            this.code = code;
        }

        public int code() {
            return code;
        }
    }

    private final ImageStore images;
    private final Containers containers;
    private final SnapshotService snapshots;
    private final BuildCache cache;
    private final Path contexts;
    private final RunStep runs;
    private final SnapshotSteps snapshotSteps;

    public Builder(ImageStore images, Containers containers, SnapshotService snapshots, Path buildRoot) throws IOException {
        this.images = images;
        this.containers = containers;
        this.snapshots = snapshots;
        this.cache = new BuildCache(buildRoot.resolve("cache"));
        this.runs = new RunStep(images, containers, snapshots, cache);
        this.snapshotSteps = new SnapshotSteps(images, snapshots, cache);
        this.contexts = buildRoot.resolve("contexts");
        io.dockgate.files.FileTrees.delete(contexts); // contexts of builds a crash interrupted
        Files.createDirectories(contexts);
    }

    /** A build's context directory, private to the daemon; the caller removes it when the build ends. */
    public Path newContext() throws IOException {
        return Files.createTempDirectory(contexts, "ctx-");
    }

    /**
     * Receives a build context (a tar, plain, gzip or bzip2) into dir: spooled and indexed (see
     * {@link TarContext}), at most maxBytes uncompressed; entries that climb out, device files and FIFOs
     * are refused.
     */
    public static TarContext receiveContext(InputStream body, Path dir, long maxBytes) throws IOException {
        java.io.BufferedInputStream in = new java.io.BufferedInputStream(body, 65536);
        in.mark(8);
        byte[] magic = in.readNBytes(6);
        in.reset();
        InputStream tar;
        if (magic.length >= 3 && magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h') {
            tar = new org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream(in);
        } else if (magic.length >= 6 && (magic[0] & 0xff) == 0xfd && magic[1] == '7' && magic[2] == 'z') {
            throw EngineException.invalid("xz-compressed build contexts are not supported by dockgate (plain, gzip or bzip2)");
        } else if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            tar = new java.util.zip.GZIPInputStream(in, 65536);
        } else if (magic.length >= 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5 && (magic[2] & 0xff) == 0x2f
                && (magic[3] & 0xff) == 0xfd) {
            tar = new com.github.luben.zstd.ZstdInputStream(in);
        } else if (isTar(in)) {
            tar = in; // a plain tar: read as it is (no second buffer)
        } else {
            // not an archive: the body is the Dockerfile itself (docker build - < Dockerfile), as dockerd takes it
            byte[] dockerfile = in.readNBytes((4 << 20) + 1);
            if (dockerfile.length > 4 << 20) {
                throw EngineException.invalid("the build context is neither a tar archive nor a Dockerfile of at most 4 MiB");
            }
            tar = new java.io.ByteArrayInputStream(singleFileTar("Dockerfile", dockerfile));
        }
        return TarContext.spool(tar, dir, maxBytes);
    }

    /** Whether the stream (marked and reset here) starts with a tar header whose checksum holds. */
    private static boolean isTar(java.io.BufferedInputStream in) throws IOException {
        in.mark(512);
        byte[] header = in.readNBytes(512);
        in.reset();
        return header.length == 512 && org.apache.commons.compress.archivers.tar.TarUtils.verifyCheckSum(header);
    }

    private static byte[] singleFileTar(String name, byte[] content) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(content.length + 2048);
        try (org.apache.commons.compress.archivers.tar.TarArchiveOutputStream out =
                     new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(bytes)) {
            org.apache.commons.compress.archivers.tar.TarArchiveEntry e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(name);
            e.setSize(content.length);
            e.setMode(0100644);
            out.putArchiveEntry(e);
            out.write(content);
            out.closeArchiveEntry();
        }
        return bytes.toByteArray();
    }

    /**
     * Builds the context's Dockerfile. Returns the final image, tagged as asked. The context is a directory
     * the caller extracted (and removes).
     */
    public Image build(TarContext context, BuildRequest r, Output out, BooleanSupplier cancelled, BaseImages bases) throws IOException {
        Dockerfile file = Dockerfile.parse(readDockerfile(context, r.dockerfile()));
        List<Dockerfile.Instruction> all = file.instructions();
        char escape = file.escape();
        int last = lastInstruction(all, r.target(), escape);
        Map<String, String> globalArgs = new LinkedHashMap<>();
        Set<String> usedArgs = new LinkedHashSet<>();
        List<Stage> stages = new ArrayList<>();
        Stage stage = null;
        int total = last + 1;
        for (int i = 0; i <= last; i++) {
            if (cancelled.getAsBoolean()) {
                throw new EngineException(ErrorKind.RUNTIME, "the build was cancelled");
            }
            Dockerfile.Instruction in = all.get(i);
            out.stream("Step " + (i + 1) + "/" + total + " : " + in.original() + "\n");
            if (in.keyword().equals("FROM")) {
                if (stage != null && stage.image != null) {
                    out.aux(stage.image.id().toString());
                }
                stage = from(in, stages, globalArgs, r, out, escape, usedArgs, bases);
                stages.add(stage);
                runTriggers(stage, stages, context, r, out, cancelled, escape, usedArgs);
                continue;
            }
            if (stage == null) {
                if (in.keyword().equals("ARG")) {
                    for (Map.Entry<String, String> a : argDeclarations(in, escape, new ShellLex(escape, globalArgs::get))) {
                        String value = r.buildArgs().containsKey(a.getKey()) && r.buildArgs().get(a.getKey()) != null
                                ? r.buildArgs().get(a.getKey()) : a.getValue();
                        globalArgs.put(a.getKey(), value);
                        if (r.buildArgs().containsKey(a.getKey())) {
                            usedArgs.add(a.getKey());
                        }
                    }
                    continue;
                }
                throw EngineException.invalid("Dockerfile parse error line " + in.line() + ": "
                        + in.keyword().toLowerCase(Locale.ROOT) + " instruction before FROM is not allowed (only ARG)");
            }
            step(stage, stages, in, context, r, out, cancelled, escape, globalArgs, usedArgs);
        }
        if (stage == null) {
            throw EngineException.invalid("No image was generated. Is your Dockerfile empty?");
        }
        if (!r.labels().isEmpty()) {
            ObjectNode labels = objectField(stage.config, "Labels");
            r.labels().forEach(labels::put);
            stage.image = metadataCommit(stage, "LABEL " + String.join(" ", r.labels().entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue()).toList()), r, out);
        }
        if (stage.image == null) {
            throw EngineException.invalid("No image was generated. Is your Dockerfile empty?");
        }
        List<String> unused = new ArrayList<>();
        for (String k : r.buildArgs().keySet()) {
            if (!usedArgs.contains(k) && !PREDEFINED_ARGS.contains(k)) {
                unused.add(k);
            }
        }
        if (!unused.isEmpty()) {
            out.stream("[Warning] One or more build-args [" + String.join(" ", unused) + "] were not consumed\n");
        }
        out.aux(stage.image.id().toString());
        images.hold(r.images(), stage.image); // a cached result too: the caller's namespace holds what it built
        for (String tag : r.tags()) {
            images.reference(r.images(), Reference.parse(tag), stage.image);
        }
        return stage.image;
    }

    /** The Dockerfile's text in a context (the name given, or Dockerfile/dockerfile by default). */
    public static String readDockerfile(TarContext context, String name) throws IOException {
        byte[] text = context.read(context.resolve("/" + name), 4L << 20);
        if (text == null && name.equals("Dockerfile")) {
            text = context.read(context.resolve("/dockerfile"), 4L << 20);
        }
        if (text == null) {
            throw EngineException.invalid("Cannot locate specified Dockerfile: " + name);
        }
        return new String(text, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The index of the last instruction to run: the whole file, or the end of the target stage. */
    static int lastInstruction(List<Dockerfile.Instruction> all, String target, char escape) {
        if (target == null || target.isEmpty()) {
            return all.size() - 1;
        }
        boolean inTarget = false;
        for (int i = 0; i < all.size(); i++) {
            Dockerfile.Instruction in = all.get(i);
            if (in.keyword().equals("FROM")) {
                if (inTarget) {
                    return i - 1;
                }
                List<String> words = new ShellLex(escape, null).words(in.args());
                if (words.size() == 3 && words.get(1).equalsIgnoreCase("AS") && words.get(2).equalsIgnoreCase(target)) {
                    inTarget = true;
                }
            }
        }
        if (!inTarget) {
            throw EngineException.invalid("failed to reach build target " + target + " in Dockerfile");
        }
        return all.size() - 1;
    }

    // ------------------------------------------------------------------ FROM

    private Stage from(Dockerfile.Instruction in, List<Stage> stages, Map<String, String> globalArgs, BuildRequest r, Output out,
                       char escape, Set<String> usedArgs, BaseImages bases) throws IOException {
        int index = stages.size();
        in.allowFlags("platform");
        String platform = in.flags().getOrDefault("platform", r.platform());
        ShellLex lex = new ShellLex(escape, name -> {
            usedArgs.add(name);
            return globalArgs.get(name);
        });
        platform = lex.word(platform);
        if (!platform.isEmpty() && !platform.equals("linux/amd64") && !platform.equals("linux")) {
            throw EngineException.invalid("platform " + platform + " is not supported: this daemon builds linux/amd64 images");
        }
        List<String> words = lex.words(in.args());
        if (words.isEmpty() || words.size() != 1 && words.size() != 3 || words.size() == 3 && !words.get(1).equalsIgnoreCase("AS")) {
            throw EngineException.invalid("Dockerfile parse error line " + in.line() + ": FROM requires either one or three arguments");
        }
        String name = words.size() == 3 ? words.get(2).toLowerCase(Locale.ROOT) : "";
        Stage stage = new Stage(name, index, bases);
        String base = words.get(0);
        if (base.isEmpty()) {
            throw EngineException.invalid("base name (" + in.args() + ") should not be blank");
        }
        if (base.equalsIgnoreCase("scratch")) {
            stage.image = null;
            stage.config = JSON.createObjectNode();
            out.stream(" ---> \n");
            return stage;
        }
        Stage earlier = null;
        for (Stage s : stages) {
            if (!s.name.isEmpty() && s.name.equalsIgnoreCase(base)) {
                earlier = s; // FROM an earlier stage: where it ended
            }
        }
        if (earlier != null) {
            stage.image = earlier.image;
            stage.config = earlier.config.deepCopy();
            out.stream(" ---> " + (stage.image == null ? "" : shortId(stage.image)) + "\n");
            return stage;
        }
        stage.image = bases.get(base, r.pull(), out);
        stage.config = stage.image.runConfig() == null || !stage.image.runConfig().isObject()
                ? JSON.createObjectNode() : (ObjectNode) stage.image.runConfig().deepCopy();
        boolean hasPath = false;
        for (JsonNode e : stage.config.path("Env")) {
            hasPath |= e.asText().startsWith("PATH=");
        }
        if (!hasPath) { // as dockerd: the default PATH when the base image sets none
            arrayField(stage.config, "Env").add("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        }
        out.stream(" ---> " + shortId(stage.image) + "\n");
        return stage;
    }

    /** ONBUILD triggers of the base image, run after its FROM (and not inherited further). */
    private void runTriggers(Stage stage, List<Stage> stages, TarContext context, BuildRequest r, Output out, BooleanSupplier cancelled,
                             char escape, Set<String> usedArgs) throws IOException {
        JsonNode triggers = stage.config.get("OnBuild");
        if (triggers == null || !triggers.isArray() || triggers.isEmpty()) {
            return;
        }
        stage.config.putNull("OnBuild");
        out.stream("# Executing " + triggers.size() + " build trigger" + (triggers.size() == 1 ? "" : "s") + "\n");
        for (JsonNode t : triggers) {
            Dockerfile.Instruction in = Dockerfile.instruction(t.asText(), 0, escape);
            step(stage, stages, in, context, r, out, cancelled, escape, Map.of(), usedArgs);
        }
    }

    // ------------------------------------------------------------------ one step

    private void step(Stage stage, List<Stage> stages, Dockerfile.Instruction in, TarContext context, BuildRequest r, Output out,
                      BooleanSupplier cancelled, char escape, Map<String, String> globalArgs, Set<String> usedArgs) throws IOException {
        ShellLex lex = new ShellLex(escape, name -> lookup(stage, name, usedArgs, r));
        switch (in.keyword()) {
            case "RUN" -> runs.run(stage, in, r, out, cancelled, usedArgs);
            case "COPY", "ADD" -> snapshotSteps.copy(stage, stages, in, context, r, out, lex);
            case "ARG" -> {
                in.allowFlags();
                List<String> declared = new ArrayList<>();
                for (Map.Entry<String, String> a : argDeclarations(in, escape, lex)) {
                    String value = a.getValue();
                    if (value == null && globalArgs.containsKey(a.getKey())) {
                        value = globalArgs.get(a.getKey()); // a global ARG redeclared in the stage takes its value
                    }
                    if (r.buildArgs().containsKey(a.getKey())) {
                        usedArgs.add(a.getKey());
                        if (r.buildArgs().get(a.getKey()) != null) {
                            value = r.buildArgs().get(a.getKey());
                        }
                    }
                    stage.args.put(a.getKey(), value);
                    declared.add(a.getValue() == null ? a.getKey() : a.getKey() + "=" + a.getValue());
                }
                stage.image = metadataCommit(stage, "ARG " + String.join(" ", declared), r, out);
                out.stream(" ---> " + shortId(stage.image) + "\n");
            }
            default -> {
                Instructions.apply(stage.config, in, lex, escape, stage.cmdSet);
                if (in.keyword().equals("CMD")) {
                    stage.cmdSet = true;
                }
                if (in.keyword().equals("WORKDIR")) {
                    stage.image = snapshotSteps.workdir(stage, r);
                } else {
                    stage.image = metadataCommit(stage, Instructions.describe(in, lex), r, out);
                }
                out.stream(" ---> " + shortId(stage.image) + "\n");
            }
        }
    }

    /** A variable's value in a configuration's Env ("NAME=value"), or null. */
    static String envValue(JsonNode config, String name) {
        for (JsonNode e : config.path("Env")) {
            String s = e.asText();
            int eq = s.indexOf('=');
            if (eq > 0 && s.substring(0, eq).equals(name)) {
                return s.substring(eq + 1);
            }
        }
        return null;
    }

    /** A variable in a stage: its environment first, then its declared ARGs. */
    private static String lookup(Stage stage, String name, Set<String> usedArgs, BuildRequest r) {
        String env = envValue(stage.config, name);
        if (env != null) {
            return env;
        }
        if (stage.args.containsKey(name)) {
            return stage.args.get(name);
        }
        if (PREDEFINED_ARGS.contains(name) && r.buildArgs().get(name) != null) {
            usedArgs.add(name);
            return r.buildArgs().get(name);
        }
        return null;
    }

    /** ARG name[=default] ...: names and defaults (null when none), defaults expanded. */
    static List<Map.Entry<String, String>> argDeclarations(Dockerfile.Instruction in, char escape, ShellLex lex) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        List<String> tokens = Dockerfile.splitPairs(in.args(), escape);
        if (tokens.isEmpty()) {
            throw EngineException.invalid("ARG requires at least one argument");
        }
        for (String t : tokens) {
            int eq = t.indexOf('=');
            String name = eq < 0 ? t : t.substring(0, eq);
            if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw EngineException.invalid("invalid ARG name " + name);
            }
            out.add(new java.util.AbstractMap.SimpleEntry<>(name, eq < 0 ? null : lex.word(t.substring(eq + 1))));
        }
        return out;
    }

    // ------------------------------------------------------------------ images of steps

    /** An image with the stage's configuration and no new layer (ENV, LABEL, CMD, ...), from the cache when it was made before. */
    private Image metadataCommit(Stage stage, String description, BuildRequest r, Output out) throws IOException {
        String createdBy = "/bin/sh -c #(nop)  " + description;
        String key = BuildCache.key(r.owner(), parentId(stage), "meta", createdBy, JSON.writeValueAsString(stage.config));
        Optional<Image> hit = r.noCache() ? Optional.empty() : cache.find(key, images);
        if (hit.isPresent()) {
            out.stream(" ---> Using cache\n");
            return hit.get();
        }
        Image image = images.commitChild(stage.image, null, new ImageStore.ChildImage(stage.config.deepCopy(), "", "", createdBy,
                true, "").ownedBy(r.owner(), r.images()), Optional.empty());
        cache.put(key, image);
        return image;
    }

    static String parentId(Stage stage) {
        return stage.image == null ? "scratch" : stage.image.id().toString();
    }

    static String shortId(Image image) {
        return image.id().hex().substring(0, 12);
    }

    /** The label of RUN steps' containers. */
    public static final String BUILD_LABEL = "io.dockgate.build-step";

    /**
     * What builds a crash interrupted left (snapshots whose keys start with "build-", RUN steps' containers,
     * contexts): removed at start.
     */
    public void sweep() throws IOException {
        for (ContainerRecord c : containers.list()) {
            if (c.spec().labels() != null && c.spec().labels().containsKey(BUILD_LABEL)) {
                try {
                    containers.remove(c.id(), true, true);
                } catch (IOException | RuntimeException e) {
                    org.slf4j.LoggerFactory.getLogger(Builder.class).warn("removing build step container {}: {}", c.id(), e.toString());
                }
            }
        }
        for (String key : snapshots.recover()) {
            if (key.startsWith("build-")) {
                try {
                    snapshots.unmount(key);
                } catch (IOException | RuntimeException e) {
                    // not mounted
                }
                snapshots.remove(key);
            }
        }
    }

    static ObjectNode objectField(ObjectNode config, String name) {
        JsonNode n = config.get(name);
        if (n instanceof ObjectNode o) {
            return o;
        }
        return config.putObject(name);
    }

    static ArrayNode arrayField(ObjectNode config, String name) {
        JsonNode n = config.get(name);
        if (n instanceof ArrayNode a) {
            return a;
        }
        return config.putArray(name);
    }

}
