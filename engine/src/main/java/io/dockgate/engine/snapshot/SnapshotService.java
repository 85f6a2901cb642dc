package io.dockgate.engine.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.files.AtomicFiles;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.image.Digest;
import io.dockgate.engine.image.Layer;
import io.dockgate.engine.image.LayerStore;
import io.dockgate.engine.sys.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Container root filesystems on overlayfs: the image's layers are the shared read-only lowerdirs, and
 * each snapshot has its own upperdir (its differencing layer) and workdir under
 * {@code <data-root>/snapshots/<key>}. Lowerdirs are given through short symlinks under
 * {@code <exec-root>/l/} so that images with many layers fit in one page of mount options.
 * Blocking: call from worker threads.
 */
public final class SnapshotService {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_MOUNT_DATA = 4000;

    private final Path root;
    private final Path links;

    public SnapshotService(Path dataRoot, Path execRoot) throws IOException {
        this.root = dataRoot.resolve("snapshots");
        this.links = execRoot.resolve("l");
        Files.createDirectories(root);
        Files.createDirectories(links);
        io.dockgate.engine.fs.Trash.sweep(root);
    }

    /** A prepared snapshot. */
    public record Snapshot(String key, List<Path> lowers, Path upper, Path work, Path merged) {
    }

    /** Creates the writable layer for key on top of the layers (bottom first). */
    public Snapshot prepare(String key, List<Layer> layers) throws IOException {
        Path dir = dir(key);
        if (Files.exists(dir)) {
            throw EngineException.conflict("snapshot " + key + " already exists");
        }
        Path staging = root.resolve("." + key + ".tmp");
        io.dockgate.files.FileTrees.delete(staging);
        Files.createDirectories(staging.resolve("upper"));
        Files.createDirectories(staging.resolve("work"));
        Files.createDirectories(staging.resolve("merged"));
        ObjectNode meta = JSON.createObjectNode();
        ArrayNode lowers = meta.putArray("lowers");
        for (int i = layers.size() - 1; i >= 0; i--) {
            lowers.add(layers.get(i).diff().toString());
        }
        meta.put("top", layers.isEmpty() ? null : layers.get(layers.size() - 1).chainId().toString());
        AtomicFiles.write(staging.resolve("snapshot.json"), JSON.writeValueAsBytes(meta), AtomicFiles.PUBLIC);
        Files.move(staging, dir);
        return get(key).orElseThrow();
    }

    public Optional<Snapshot> get(String key) throws IOException {
        Path dir = dir(key);
        if (!Files.exists(dir.resolve("snapshot.json"))) {
            return Optional.empty();
        }
        JsonNode meta = JSON.readTree(dir.resolve("snapshot.json").toFile());
        List<Path> lowers = new ArrayList<>();
        meta.path("lowers").forEach(l -> lowers.add(Path.of(l.asText())));
        return Optional.of(new Snapshot(key, lowers, dir.resolve("upper"), dir.resolve("work"), dir.resolve("merged")));
    }

    /** Mounts the overlay at the snapshot's merged directory (idempotent). */
    public Path mount(String key) throws IOException {
        Snapshot s = get(key).orElseThrow(() -> EngineException.notFound("no snapshot " + key));
        if (isMounted(s.merged())) {
            return s.merged();
        }
        List<Path> lowers = s.lowers();
        if (lowers.isEmpty()) {
            // FROM scratch (a build's first step): overlay needs a lower directory; an empty one of the daemon's
            Path empty = links.getParent().resolve("empty-lower");
            Files.createDirectories(empty);
            lowers = List.of(empty);
        }
        StringBuilder lower = new StringBuilder();
        StringBuilder relative = new StringBuilder();
        for (Path l : lowers) {
            String name = shortLink(l);
            lower.append(lower.length() > 0 ? ":" : "").append(links.resolve(name));
            relative.append(relative.length() > 0 ? ":" : "").append("l/").append(name);
        }
        String tail = ",upperdir=" + s.upper() + ",workdir=" + s.work();
        String data = "lowerdir=" + lower + tail;
        if (data.length() <= MAX_MOUNT_DATA) {
            Syscalls.mount("overlay", s.merged().toString(), "overlay", 0, data);
            return s.merged();
        }
        // Too long for one page: let mount(8) run with the exec root as its working directory, so the
        // lowerdirs can be given relative to it (as dockerd's overlay2 driver does in a child process).
        String relativeData = "lowerdir=" + relative + tail;
        if (relativeData.length() > MAX_MOUNT_DATA) {
            throw new EngineException(ErrorKind.INVALID_ARGUMENT, "image has too many layers to mount (" + s.lowers().size() + ")");
        }
        Process p = new ProcessBuilder("mount", "-t", "overlay", "overlay", "-o", relativeData, s.merged().toString())
                .directory(links.getParent().toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                throw new IOException("mount overlay " + s.merged() + ": " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while mounting");
        }
        return s.merged();
    }

    /** The name of a short, stable symlink to a layer directory ({@code <exec-root>/l/<10 hex>}). */
    private String shortLink(Path layerDiff) throws IOException {
        String name = Digest.of(layerDiff.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)).hex().substring(0, 10);
        Path link = links.resolve(name);
        if (!Files.isSymbolicLink(link)) {
            try {
                Files.createSymbolicLink(link, layerDiff);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // created concurrently
            }
        }
        return name;
    }

    public void unmount(String key) throws IOException {
        Path merged = dir(key).resolve("merged");
        if (isMounted(merged)) {
            try {
                Syscalls.umount(merged.toString(), 0);
            } catch (Syscalls.ErrnoException e) {
                Syscalls.umount(merged.toString(), Syscalls.MNT_DETACH);
            }
        }
    }

    /** Unmounts and deletes the writable layer. */
    public void remove(String key) throws IOException {
        unmount(key);
        io.dockgate.engine.fs.Trash.discard(dir(key));
    }

    /** Bytes of the files in the writable layer (Docker's SizeRw). */
    public long writableSize(String key) throws IOException {
        Path upper = dir(key).resolve("upper");
        return Files.exists(upper) ? io.dockgate.files.FileTrees.size(upper) : 0;
    }

    /** One change of the writable layer against the image: kind 0 modified, 1 added, 2 deleted (Docker's codes). */
    public record Change(String path, int kind) {
    }

    /**
     * docker diff: what the writable layer adds, modifies or deletes, read from the upper directory
     * (whiteouts are deletions; a path that exists in a lower layer is a modification), with the parent
     * directories of every change reported as modified, as Docker does. {@code hidden} are the mount
     * points the engine itself puts in the layer (the container's /etc files): they and what lies below
     * them are left out, as dockerd keeps them in an init layer under the container's. A directory the
     * image already has is reported only as the parent of a change, or when it was replaced (opaque).
     */
    public List<Change> changes(String key, java.util.Set<String> hidden) throws IOException {
        Snapshot s = get(key).orElseThrow(() -> EngineException.notFound("no snapshot " + key));
        java.util.TreeMap<String, Integer> changes = new java.util.TreeMap<>();
        if (!Files.exists(s.upper())) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(s.upper())) {
            for (Path p : walk.toList()) {
                if (p.equals(s.upper())) {
                    continue;
                }
                String rel = "/" + s.upper().relativize(p);
                if (hidden.stream().anyMatch(h -> rel.equals(h) || rel.startsWith(h + "/"))) {
                    continue;
                }
                boolean directory = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
                boolean whiteout = !directory
                        && Integer.valueOf(0020000).equals(((Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS)) & 0170000)
                        && Long.valueOf(0).equals(Files.getAttribute(p, "unix:rdev", LinkOption.NOFOLLOW_LINKS));
                boolean existed = inLower(s, rel);
                if (directory && existed && Syscalls.lgetxattr(p.toString(), "trusted.overlay.opaque") == null) {
                    continue; // copied up because something below it changed: reported as that change's parent
                }
                changes.put(rel, whiteout ? 2 : existed ? 0 : 1);
                for (Path parent = Path.of(rel).getParent(); parent != null && !parent.toString().equals("/"); parent = parent.getParent()) {
                    changes.putIfAbsent(parent.toString(), inLower(s, parent.toString()) ? 0 : 1);
                }
            }
        }
        List<Change> result = new ArrayList<>();
        changes.forEach((path, kind) -> result.add(new Change(path, kind)));
        return result;
    }

    /**
     * The writable layer as a layer tar (docker commit, a build step): every entry of the upper directory
     * in name order with owner, mode, time, symlinks and hardlinks, file capabilities; overlay whiteouts
     * (0/0 character devices) as {@code .wh.<name>} entries and opaque directories with a
     * {@code .wh..wh..opq} entry; {@code hidden} (the engine's own mount points) and what is below them
     * left out. Names are relative ("etc/passwd"), directories end in '/', as Docker writes layers.
     */
    public void writeDiff(String key, java.util.Set<String> hidden, java.io.OutputStream out) throws IOException {
        Snapshot s = get(key).orElseThrow(() -> EngineException.notFound("no snapshot " + key));
        org.apache.commons.compress.archivers.tar.TarArchiveOutputStream tar =
                new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(out);
        tar.setLongFileMode(org.apache.commons.compress.archivers.tar.TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(org.apache.commons.compress.archivers.tar.TarArchiveOutputStream.BIGNUMBER_POSIX);
        java.util.Map<String, String> firstName = new java.util.HashMap<>();
        if (Files.exists(s.upper())) {
            diffEntries(s.upper(), s.upper(), hidden, tar, firstName);
        }
        tar.finish();
        tar.flush();
    }

    private static void diffEntries(Path upper, Path dir, java.util.Set<String> hidden,
                                    org.apache.commons.compress.archivers.tar.TarArchiveOutputStream tar,
                                    java.util.Map<String, String> firstName) throws IOException {
        List<Path> children;
        try (Stream<Path> list = Files.list(dir)) {
            children = list.sorted().toList();
        }
        for (Path p : children) {
            String rel = upper.relativize(p).toString();
            if (hidden.stream().anyMatch(h -> ("/" + rel).equals(h) || ("/" + rel).startsWith(h + "/"))) {
                continue;
            }
            java.util.Map<String, Object> unix = Files.readAttributes(p, "unix:mode,uid,gid,rdev,ino,dev,nlink,size,lastModifiedTime",
                    LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) unix.get("mode");
            int type = mode & 0170000;
            long mtime = ((java.nio.file.attribute.FileTime) unix.get("lastModifiedTime")).toMillis();
            org.apache.commons.compress.archivers.tar.TarArchiveEntry e;
            boolean content = false;
            if (type == 0020000 && Long.valueOf(0).equals(unix.get("rdev"))) {
                Path parent = Path.of(rel).getParent();
                String name = (parent == null ? "" : parent + "/") + ".wh." + p.getFileName();
                e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(name, true);
                e.setSize(0);
                e.setMode(0100000);
                e.setModTime(mtime);
                tar.putArchiveEntry(e);
                tar.closeArchiveEntry();
                continue;
            }
            if (type == 0120000) {
                e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(rel,
                        org.apache.commons.compress.archivers.tar.TarConstants.LF_SYMLINK);
                e.setLinkName(Files.readSymbolicLink(p).toString());
            } else if (type == 0040000) {
                e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(rel + "/");
            } else if (type == 0100000) {
                String inode = unix.get("dev") + ":" + unix.get("ino");
                String first = (Integer) unix.get("nlink") > 1 ? firstName.putIfAbsent(inode, rel) : null;
                if (first != null) {
                    e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(rel,
                            org.apache.commons.compress.archivers.tar.TarConstants.LF_LINK);
                    e.setLinkName(first);
                } else {
                    e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(rel, true);
                    e.setSize((Long) unix.get("size"));
                    content = true;
                }
            } else if (type == 0020000 || type == 0060000) {
                e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(rel, type == 0020000
                        ? org.apache.commons.compress.archivers.tar.TarConstants.LF_CHR
                        : org.apache.commons.compress.archivers.tar.TarConstants.LF_BLK);
                long rdev = (Long) unix.get("rdev");
                e.setDevMajor((int) (((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfffL)));
                e.setDevMinor((int) ((rdev & 0xff) | ((rdev >> 12) & ~0xffL)));
            } else if (type == 0010000) {
                e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(rel,
                        org.apache.commons.compress.archivers.tar.TarConstants.LF_FIFO);
            } else {
                continue; // sockets are not kept in layers
            }
            e.setMode(mode);
            e.setUserId((Integer) unix.get("uid"));
            e.setGroupId((Integer) unix.get("gid"));
            e.setModTime(mtime);
            if (type != 0120000) {
                byte[] caps = Syscalls.lgetxattr(p.toString(), "security.capability");
                if (caps != null) {
                    e.addPaxHeader("SCHILY.xattr.security.capability", new String(caps, java.nio.charset.StandardCharsets.ISO_8859_1));
                }
            }
            tar.putArchiveEntry(e);
            if (content) {
                try (java.io.InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
                    long copied = in.transferTo(tar);
                    if (copied != e.getSize()) {
                        throw new IOException(p + " changed size while it was committed");
                    }
                }
            }
            tar.closeArchiveEntry();
            if (type == 0040000) {
                if (Syscalls.lgetxattr(p.toString(), "trusted.overlay.opaque") != null) {
                    org.apache.commons.compress.archivers.tar.TarArchiveEntry opq =
                            new org.apache.commons.compress.archivers.tar.TarArchiveEntry(rel + "/.wh..wh..opq", true);
                    opq.setSize(0);
                    opq.setMode(0100000);
                    opq.setModTime(mtime);
                    tar.putArchiveEntry(opq);
                    tar.closeArchiveEntry();
                }
                diffEntries(upper, p, hidden, tar, firstName);
            }
        }
    }

    private static boolean inLower(Snapshot s, String rel) {
        for (Path lower : s.lowers()) {
            if (Files.exists(lower.resolve(rel.substring(1)), LinkOption.NOFOLLOW_LINKS)) {
                return true;
            }
        }
        return false;
    }

    /** Keys of every snapshot on disk; unfinished ones (a crash during prepare or remove) are deleted. */
    public List<String> recover() throws IOException {
        List<String> keys = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path p : dirs.toList()) {
                String name = p.getFileName().toString();
                if (name.startsWith(".")) {
                    io.dockgate.files.FileTrees.delete(p);
                } else {
                    keys.add(name);
                }
            }
        }
        return keys;
    }

    public static boolean isMounted(Path path) throws IOException {
        String target = path.toAbsolutePath().normalize().toString();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            if (f.length > 4 && f[4].replace("\\040", " ").equals(target)) {
                return true;
            }
        }
        return false;
    }

    private Path dir(String key) {
        if (!key.matches("[a-zA-Z0-9_.-]{1,128}") || key.startsWith(".")) {
            throw EngineException.invalid("invalid snapshot key " + key);
        }
        return root.resolve(key);
    }
}
