package io.dockgate.engine.build;

import io.dockgate.engine.EngineException;
import io.dockgate.engine.oci.RootfsPaths;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * COPY and ADD: the sources resolved inside their root (the build context, or a stage's or image's
 * filesystem: symbolic links are followed only within it, {@code ..} stops at it), wildcards expanded,
 * then written into the image's filesystem (resolved the same way inside it) with their modes and times,
 * owned by root or by {@code --chown}; directories are copied by content, symbolic links inside them as
 * links. ADD unpacks local tar archives (plain, gzip, bzip2) into the destination, never outside it.
 */
final class CopyInto {
    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};

    private CopyInto() {
    }

    /** Where the sources are on the host: a directory now, or once a step needs them (a spooled context). */
    interface Root {
        Path path() throws IOException;
    }

    /** One source found: its resolved name below the root ("" the root) and its own name (for a file copied into a directory). */
    private record Source(String rel, String name) {
    }

    /** The resolved sources and destination, with the digest of everything they read. */
    record Plan(Root root, List<Source> sources, String destination, boolean destinationIsDirectory, boolean add, String digest,
                boolean singleFile) {
        /** Writes the sources into the root filesystem. */
        void copy(Path rootfs, String chown) throws IOException {
            int uid = 0;
            int gid = 0;
            if (!chown.isEmpty()) {
                io.dockgate.engine.oci.UserResolver.User u = io.dockgate.engine.oci.UserResolver.resolve(rootfs, chown);
                uid = u.uid();
                gid = u.gid();
            }
            Path base = root.path();
            for (Source s : sources) {
                Path source = s.rel().isEmpty() ? base : base.resolve(s.rel());
                boolean directory = Files.isDirectory(source, NOFOLLOW);
                if (add && !directory && isArchive(source)) {
                    Path dest = mkdirs(rootfs, destination, uid, gid);
                    extract(source, dest, uid, gid, !chown.isEmpty());
                    continue;
                }
                if (directory) {
                    Path dest = mkdirs(rootfs, destination, uid, gid);
                    copyTree(source, dest, uid, gid);
                    continue;
                }
                Path target = RootfsPaths.resolve(rootfs, destination);
                if (destinationIsDirectory || Files.isDirectory(target)) {
                    Path dir = mkdirs(rootfs, destination, uid, gid);
                    target = dir.resolve(s.name());
                } else {
                    Path parent = Path.of(destination).getParent();
                    mkdirs(rootfs, parent == null ? "/" : parent.toString(), uid, gid);
                    target = RootfsPaths.resolve(rootfs, destination);
                }
                copyEntry(source, target, uid, gid);
            }
        }
    }

    /**
     * Resolves the sources (wildcards, inside root) and the destination (relative to the working
     * directory); dockerd's errors for none found and for several into a file.
     */
    static Plan plan(Path root, List<String> sources, String dest, String workingDir, boolean add) throws IOException {
        List<Source> found = new ArrayList<>();
        for (String s : sources) {
            String clean = Path.of("/" + s).normalize().toString();
            if (clean.matches(".*[*?\\[].*")) {
                PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + clean.substring(1));
                List<Path> matches = new ArrayList<>();
                try (Stream<Path> walk = Files.walk(root)) {
                    for (Path p : walk.toList()) {
                        if (!p.equals(root) && m.matches(root.relativize(p))) {
                            matches.add(p);
                        }
                    }
                }
                matches.sort(null);
                for (Path p : matches) {
                    found.add(new Source(root.relativize(RootfsPaths.resolve(root, "/" + root.relativize(p))).toString(),
                            p.getFileName().toString()));
                }
                continue;
            }
            Path p;
            try {
                p = RootfsPaths.resolve(root, clean);
            } catch (IOException e) {
                throw EngineException.invalid((add ? "ADD" : "COPY") + " failed: " + s + ": " + e.getMessage());
            }
            if (!Files.exists(p, NOFOLLOW)) {
                throw EngineException.invalid((add ? "ADD" : "COPY") + " failed: file not found in build context or excluded by"
                        + " .dockerignore: stat " + s + ": file does not exist");
            }
            found.add(new Source(root.relativize(p).toString(), clean.equals("/") ? "" : Path.of(clean).getFileName().toString()));
        }
        checkCount(found, dest, add);
        MessageDigest d = io.dockgate.engine.image.Digest.sha256();
        for (Source s : found) {
            digest(s.rel().isEmpty() ? root : root.resolve(s.rel()), s.name(), d);
        }
        Path first = found.get(0).rel().isEmpty() ? root : root.resolve(found.get(0).rel());
        boolean single = found.size() == 1 && Files.isRegularFile(first, NOFOLLOW);
        return new Plan(() -> root, List.copyOf(found), destination(dest, workingDir), isDirectory(dest), add,
                HexFormat.of().formatHex(d.digest()), single);
    }

    /**
     * The same for a spooled context: resolved and digested from its index, unpacked only when the copy
     * runs (a step the cache does not have).
     */
    static Plan plan(TarContext context, List<String> sources, String dest, String workingDir, boolean add) {
        List<Source> found = new ArrayList<>();
        for (String s : sources) {
            String clean = Path.of("/" + s).normalize().toString();
            if (clean.matches(".*[*?\\[].*")) {
                PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + clean.substring(1));
                for (String name : context.names()) {
                    if (m.matches(Path.of(name))) {
                        found.add(new Source(context.resolve(name), name.substring(name.lastIndexOf('/') + 1)));
                    }
                }
                continue;
            }
            String resolved;
            try {
                resolved = context.resolve(clean);
            } catch (EngineException e) {
                throw EngineException.invalid((add ? "ADD" : "COPY") + " failed: " + s + ": " + e.getMessage());
            }
            if (!context.exists(resolved)) {
                throw EngineException.invalid((add ? "ADD" : "COPY") + " failed: file not found in build context or excluded by"
                        + " .dockerignore: stat " + s + ": file does not exist");
            }
            found.add(new Source(resolved, clean.equals("/") ? "" : Path.of(clean).getFileName().toString()));
        }
        checkCount(found, dest, add);
        MessageDigest d = io.dockgate.engine.image.Digest.sha256();
        for (Source s : found) {
            context.digest(s.rel(), s.name() + "/", d);
        }
        boolean single = found.size() == 1 && context.exists(found.get(0).rel()) && !context.isDirectory(found.get(0).rel());
        return new Plan(context::extracted, List.copyOf(found), destination(dest, workingDir), isDirectory(dest), add,
                HexFormat.of().formatHex(d.digest()), single);
    }

    private static boolean isDirectory(String dest) {
        return dest.endsWith("/") || dest.endsWith("/.") || dest.equals(".");
    }

    private static void checkCount(List<Source> found, String dest, boolean add) {
        if (found.isEmpty()) {
            throw EngineException.invalid((add ? "ADD" : "COPY") + " failed: no source files were specified");
        }
        if (found.size() > 1 && !isDirectory(dest)) {
            throw EngineException.invalid("When using " + (add ? "ADD" : "COPY")
                    + " with more than one source file, the destination must be a directory and end with a /");
        }
    }

    private static String destination(String dest, String workingDir) {
        String base = workingDir == null || workingDir.isEmpty() ? "/" : workingDir;
        return Path.of(dest.startsWith("/") ? dest : base + "/" + dest).normalize().toString();
    }


    /** Names, modes, owners, link targets and contents, in name order: what a copy's cache key depends on. */
    private static void digest(Path p, String name, MessageDigest d) throws IOException {
        List<Path> all;
        if (Files.isDirectory(p, NOFOLLOW)) {
            try (Stream<Path> walk = Files.walk(p)) {
                all = walk.sorted().toList();
            }
        } else {
            all = List.of(p);
        }
        byte[] buffer = new byte[65536];
        for (Path f : all) {
            String rel = name + "/" + p.relativize(f);
            int mode = (Integer) Files.getAttribute(f, "unix:mode", NOFOLLOW);
            d.update((rel + "\0" + mode + "\0").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            if (Files.isSymbolicLink(f)) {
                d.update(Files.readSymbolicLink(f).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            } else if (Files.isRegularFile(f, NOFOLLOW)) {
                try (InputStream in = Files.newInputStream(f)) {
                    int n;
                    while ((n = in.read(buffer)) > 0) {
                        d.update(buffer, 0, n);
                    }
                }
            }
            d.update((byte) 0);
        }
    }

    /** Creates the directory (and its parents) inside the root, owned by uid:gid, mode 0755; returns it. */
    static Path mkdirs(Path rootfs, String dir, int uid, int gid) throws IOException {
        Path current = rootfs;
        StringBuilder path = new StringBuilder();
        for (String part : dir.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            path.append('/').append(part);
            Path p = RootfsPaths.resolve(rootfs, path.toString());
            if (!Files.exists(p, NOFOLLOW)) {
                Files.createDirectory(p);
                Files.setAttribute(p, "unix:mode", 0755, NOFOLLOW);
                chown(p, uid, gid);
            } else if (!Files.isDirectory(p)) {
                throw EngineException.invalid("cannot copy into " + path + ": it is not a directory in the image");
            }
            current = p;
        }
        return current;
    }

    private static void chown(Path p, int uid, int gid) throws IOException {
        Files.setAttribute(p, "unix:uid", uid, NOFOLLOW);
        Files.setAttribute(p, "unix:gid", gid, NOFOLLOW);
    }

    /** A directory's content into dest (which exists), recursively. */
    private static void copyTree(Path from, Path dest, int uid, int gid) throws IOException {
        List<Path> children;
        try (Stream<Path> list = Files.list(from)) {
            children = list.sorted().toList();
        }
        for (Path c : children) {
            copyEntry(c, dest.resolve(c.getFileName().toString()), uid, gid);
        }
    }

    /** One entry (file, link, directory with its content) to target, replacing what is there unless both are directories. */
    private static void copyEntry(Path from, Path target, int uid, int gid) throws IOException {
        boolean directory = Files.isDirectory(from, NOFOLLOW);
        if (Files.exists(target, NOFOLLOW) && !(directory && Files.isDirectory(target, NOFOLLOW))) {
            io.dockgate.files.FileTrees.delete(target);
        }
        int mode = (Integer) Files.getAttribute(from, "unix:mode", NOFOLLOW);
        FileTime mtime = Files.getLastModifiedTime(from, NOFOLLOW);
        if (Files.isSymbolicLink(from)) {
            Files.createSymbolicLink(target, Files.readSymbolicLink(from));
            chown(target, uid, gid);
            return;
        }
        if (directory) {
            if (!Files.exists(target, NOFOLLOW)) {
                Files.createDirectory(target);
            }
            copyTree(from, target, uid, gid);
        } else if (Files.isRegularFile(from, NOFOLLOW)) {
            Files.copy(from, target, StandardCopyOption.REPLACE_EXISTING, LinkOption.NOFOLLOW_LINKS);
        } else {
            throw EngineException.invalid("cannot copy " + from.getFileName() + ": not a regular file, directory or link");
        }
        Files.setAttribute(target, "unix:mode", mode & 07777, NOFOLLOW);
        chown(target, uid, gid);
        Files.setLastModifiedTime(target, mtime);
    }

    private static boolean isArchive(Path p) throws IOException {
        byte[] head = new byte[512];
        int n;
        try (InputStream in = Files.newInputStream(p)) {
            n = in.readNBytes(head, 0, head.length);
        }
        if (n >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b
                || n >= 3 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h'
                || n >= 6 && (head[0] & 0xff) == 0xfd && head[1] == '7' && head[2] == 'z' && head[3] == 'X' && head[4] == 'Z') {
            return true;
        }
        return n == 512 && new String(head, 257, 5, java.nio.charset.StandardCharsets.US_ASCII).equals("ustar");
    }

    /** ADD's unpacking: entries inside dest only (names cleaned, links checked by the layer unpacker's rules). */
    private static void extract(Path archive, Path dest, int uid, int gid, boolean chown) throws IOException {
        Path staging = Files.createTempDirectory(dest.getParent() == null ? dest : dest.getParent(), ".add-");
        try {
            try (InputStream raw = Files.newInputStream(archive);
                 InputStream in = decompress(raw)) {
                io.dockgate.engine.image.LayerUnpacker.unpackTree(in, staging, 16L << 30);
            }
            try (Stream<Path> list = Files.list(staging)) {
                for (Path c : list.sorted().toList()) {
                    copyKeepingOwners(c, dest.resolve(c.getFileName().toString()), uid, gid, chown);
                }
            }
        } finally {
            io.dockgate.files.FileTrees.delete(staging);
        }
    }

    private static void copyKeepingOwners(Path from, Path target, int uid, int gid, boolean chown) throws IOException {
        if (Files.exists(target, NOFOLLOW) && !(Files.isDirectory(from, NOFOLLOW) && Files.isDirectory(target, NOFOLLOW))) {
            io.dockgate.files.FileTrees.delete(target);
        }
        if (Files.isDirectory(from, NOFOLLOW) && Files.exists(target, NOFOLLOW)) {
            try (Stream<Path> list = Files.list(from)) {
                for (Path c : list.sorted().toList()) {
                    copyKeepingOwners(c, target.resolve(c.getFileName().toString()), uid, gid, chown);
                }
            }
            return;
        }
        Files.move(from, target, StandardCopyOption.ATOMIC_MOVE);
        if (chown) {
            try (Stream<Path> walk = Files.walk(target)) {
                for (Path p : walk.toList()) {
                    chown(p, uid, gid);
                }
            }
        }
    }

    private static InputStream decompress(InputStream raw) throws IOException {
        java.io.BufferedInputStream in = new java.io.BufferedInputStream(raw, 65536);
        in.mark(8);
        byte[] magic = in.readNBytes(6);
        in.reset();
        if (magic.length >= 3 && magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h') {
            return new org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream(in);
        }
        if (magic.length >= 6 && (magic[0] & 0xff) == 0xfd && magic[1] == '7' && magic[2] == 'z') {
            throw EngineException.invalid("ADD of an xz-compressed archive is not supported by dockgate (gzip, bzip2 or plain tar)");
        }
        return io.dockgate.engine.image.LayerUnpacker.decompress(in);
    }
}
