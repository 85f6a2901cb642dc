package io.dockgate.engine.build;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.image.Image;
import io.dockgate.engine.image.ImageStore;
import io.dockgate.engine.snapshot.SnapshotService;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The steps that write into a snapshot of the stage's image and commit it: COPY and ADD (from the context,
 * an earlier stage or an image), and WORKDIR (the directory made); each looked up in the cache first.
 */
final class SnapshotSteps {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ImageStore images;
    private final SnapshotService snapshots;
    private final BuildCache cache;

    SnapshotSteps(ImageStore images, SnapshotService snapshots, BuildCache cache) {
        this.images = images;
        this.snapshots = snapshots;
        this.cache = cache;
    }

    /** WORKDIR: the directory made (root's, 0755) in a layer of its own, as dockerd's builder commits it. */
    Image workdir(Stage stage, BuildRequest r) throws IOException {
        String dir = stage.config.path("WorkingDir").asText("/");
        String createdBy = "/bin/sh -c #(nop) WORKDIR " + dir;
        String key = BuildCache.key(r.owner(), Builder.parentId(stage), "workdir", createdBy, JSON.writeValueAsString(stage.config));
        Optional<Image> hit = r.noCache() ? Optional.empty() : cache.find(key, images);
        if (hit.isPresent()) {
            return hit.get();
        }
        Image image = inSnapshot(stage, root -> {
            Path target = io.dockgate.engine.oci.RootfsPaths.resolve(root, dir);
            if (!Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                CopyInto.mkdirs(root, dir, 0, 0);
            }
        }, createdBy, r);
        cache.put(key, image);
        return image;
    }

    /** Work on a writable snapshot of the stage's image, committed as a layer: COPY, ADD, WORKDIR. */
    interface RootfsWork {
        void apply(Path rootfs) throws IOException;
    }

    Image inSnapshot(Stage stage, RootfsWork work, String createdBy, BuildRequest r) throws IOException {
        String key = "build-" + java.util.HexFormat.of().formatHex(java.security.SecureRandom.getSeed(8));
        snapshots.prepare(key, stage.image == null ? List.of() : images.layersOf(stage.image));
        try {
            Path rootfs = snapshots.mount(key);
            try {
                work.apply(rootfs);
            } finally {
                snapshots.unmount(key);
            }
            try (InputStream i = io.dockgate.engine.fs.Pipes.stream("dockgate-build-" + key, o -> snapshots.writeDiff(key, Set.of(), o))) {
                return images.commitChild(stage.image, i, new ImageStore.ChildImage(stage.config.deepCopy(), "", "", createdBy, false, "")
                        .ownedBy(r.owner(), r.images()), Optional.empty());
            }
        } finally {
            snapshots.remove(key);
        }
    }

    void copy(Stage stage, List<Stage> stages, Dockerfile.Instruction in, TarContext context, BuildRequest r, Builder.Output out, ShellLex lex)
            throws IOException {
        boolean add = in.keyword().equals("ADD");
        for (String f : in.flags().keySet()) {
            if (List.of("chmod", "link", "checksum", "keep-git-dir", "parents", "exclude").contains(f)) {
                throw EngineException.invalid("the --" + f + " option requires BuildKit. " + Dockerfile.BUILDKIT);
            }
        }
        if (add) {
            in.allowFlags("chown");
        } else {
            in.allowFlags("chown", "from");
        }
        List<String> words = in.execForm() ? in.json().stream().map(lex::word).toList() : lex.words(in.args());
        if (words.size() < 2) {
            throw EngineException.invalid(in.keyword() + " requires at least two arguments, but only one was provided. Destination could not be determined.");
        }
        List<String> sources = words.subList(0, words.size() - 1);
        String dest = words.get(words.size() - 1);
        String chown = in.flags().containsKey("chown") ? lex.word(in.flags().get("chown")) : "";
        Path sourceRoot = null; // the context's, unless --from names a stage or an image
        String from = in.flags().getOrDefault("from", "");
        Runnable release = () -> { };
        String fromKey = "context";
        if (!from.isEmpty()) {
            Image source = fromImage(from, stages, stage, r, out);
            String key = "build-from-" + java.util.HexFormat.of().formatHex(java.security.SecureRandom.getSeed(8));
            snapshots.prepare(key, images.layersOf(source));
            sourceRoot = snapshots.mount(key);
            release = () -> {
                try {
                    snapshots.unmount(key);
                    snapshots.remove(key);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            };
            fromKey = source.id().toString();
        }
        try {
            for (String s : sources) {
                if (s.startsWith("http://") || s.startsWith("https://")) {
                    throw EngineException.invalid("ADD from a URL (" + s + ") is not supported by dockgate: the daemon does not fetch"
                            + " URLs; download the file into the build context");
                }
                if (s.startsWith("git@") || s.endsWith(".git") && s.contains("://")) {
                    throw EngineException.invalid("ADD from a git repository is not supported by dockgate");
                }
            }
            String workingDir = stage.config.path("WorkingDir").asText("");
            CopyInto.Plan plan = sourceRoot == null ? CopyInto.plan(context, sources, dest, workingDir, add)
                    : CopyInto.plan(sourceRoot, sources, dest, workingDir, add);
            String digest = plan.digest();
            String createdBy = "/bin/sh -c #(nop) " + in.keyword() + " " + (plan.singleFile() ? "file:" : "dir:") + digest
                    + " in " + plan.destination() + " ";
            String key = BuildCache.key(r.owner(), Builder.parentId(stage), in.keyword(), createdBy, chown, fromKey, JSON.writeValueAsString(stage.config));
            Optional<Image> hit = r.noCache() ? Optional.empty() : cache.find(key, images);
            if (hit.isPresent()) {
                out.stream(" ---> Using cache\n");
                stage.image = hit.get();
            } else {
                stage.image = inSnapshot(stage, rootfs -> plan.copy(rootfs, chown), createdBy, r);
                cache.put(key, stage.image);
            }
            out.stream(" ---> " + Builder.shortId(stage.image) + "\n");
        } finally {
            release.run();
        }
    }

    /** COPY --from: an earlier stage by name or index, else an image (pulled when missing). */
    private Image fromImage(String from, List<Stage> stages, Stage current, BuildRequest r, Builder.Output out) throws IOException {
        for (Stage s : stages) {
            if (s == current) {
                break;
            }
            if (!s.name.isEmpty() && s.name.equalsIgnoreCase(from) || from.matches("\\d+") && Integer.parseInt(from) == s.index) {
                if (s.image == null) {
                    throw EngineException.invalid("stage " + from + " is empty (FROM scratch with nothing added)");
                }
                return s.image;
            }
        }
        if (from.matches("\\d+")) {
            throw EngineException.invalid("invalid from flag value " + from + ": refers to the current or a later stage");
        }
        return current.bases.get(from, false, out);
    }
}
