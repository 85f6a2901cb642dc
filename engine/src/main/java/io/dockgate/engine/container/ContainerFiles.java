package io.dockgate.engine.container;

import io.dockgate.engine.EngineException;
import io.dockgate.engine.oci.RootfsPaths;
import io.dockgate.engine.sys.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * docker cp: a path of a container's filesystem as the container sees it (its root filesystem with its
 * bind mounts and volumes over it), read as a tar or written from one. Intermediate symlinks are
 * followed inside the container's root, never out of it; a tar's entries cannot climb out of the
 * destination. The caller freezes a running container meanwhile, so it cannot swap a directory for a
 * symlink between the check and the write (CVE-2018-15664).
 */
final class ContainerFiles {
    /** What HEAD and GET report about the path (Docker's X-Docker-Container-Path-Stat). */
    record PathStat(String name, long size, int unixMode, Instant mtime, String linkTarget) {
        boolean directory() {
            return (unixMode & 0170000) == 0040000;
        }
    }

    private final Path rootfs;
    private final List<ContainerSpec.Mount> mounts;
    private final Function<ContainerSpec.Mount, String> hostPaths;

    ContainerFiles(Path rootfs, List<ContainerSpec.Mount> mounts, Function<ContainerSpec.Mount, String> hostPaths) {
        this.rootfs = rootfs;
        this.mounts = mounts;
        this.hostPaths = hostPaths;
    }

    /** The host path for a container path: its parent resolved (symlinks kept inside), the last component as is. */
    Path locate(String containerPath) throws IOException {
        String clean = Path.of("/").resolve(containerPath.isEmpty() ? "/" : containerPath).normalize().toString();
        ContainerSpec.Mount best = null;
        for (ContainerSpec.Mount m : mounts) {
            String t = Path.of(m.target()).normalize().toString();
            if ((clean.equals(t) || clean.startsWith(t + "/")) && (best == null || t.length() > best.target().length())) {
                best = m;
            }
        }
        Path base = best == null ? rootfs : Path.of(hostPaths.apply(best));
        String rest = best == null ? clean : clean.substring(Path.of(best.target()).normalize().toString().length());
        Path p = Path.of("/" + rest).normalize();
        if (p.getNameCount() == 0 || p.toString().equals("/")) {
            return base;
        }
        Path parent = RootfsPaths.resolve(base, p.getParent() == null ? "/" : p.getParent().toString());
        return parent.resolve(p.getFileName().toString());
    }

    PathStat stat(String containerPath) throws IOException {
        Path p = locate(containerPath);
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            throw EngineException.notFound("Could not find the file " + containerPath + " in container");
        }
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,size,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
        String name = Path.of("/").resolve(containerPath).normalize().getFileName() == null ? "/"
                : Path.of("/").resolve(containerPath).normalize().getFileName().toString();
        String link = Files.isSymbolicLink(p) ? Files.readSymbolicLink(p).toString() : "";
        return new PathStat(name, (Long) a.get("size"), (Integer) a.get("mode"), ((FileTime) a.get("lastModifiedTime")).toInstant(), link);
    }

    /** GET archive: the path as a tar whose entries start with its base name ("." when the path ends in "/."). */
    PathStat read(String containerPath, OutputStream target) throws IOException {
        PathStat stat = stat(containerPath);
        Path p = locate(containerPath);
        String base = containerPath.endsWith("/.") ? "." : stat.name().equals("/") ? "." : stat.name();
        TreeTar.write(p, path -> {
            String rel = p.relativize(path).toString();
            return rel.isEmpty() ? base : base + "/" + rel;
        }, false, target);
        return stat;
    }

    /**
     * PUT archive: extracts the tar into the directory at containerPath. Files belong to root unless
     * copyUidGid (docker cp -a) keeps the archive's owners.
     */
    void write(String containerPath, InputStream source, boolean noOverwriteDirNonDir, boolean copyUidGid) throws IOException {
        Path dest = locate(containerPath);
        if (Files.isSymbolicLink(dest)) {
            dest = RootfsPaths.resolve(rootfs, Path.of("/").resolve(containerPath).normalize().toString());
        }
        if (!Files.exists(dest)) {
            throw EngineException.notFound("Could not find the file " + containerPath + " in container");
        }
        if (!Files.isDirectory(dest, LinkOption.NOFOLLOW_LINKS)) {
            throw EngineException.invalid("extraction point is not a directory");
        }
        TarArchiveInputStream tar = new TarArchiveInputStream(source);
        TarArchiveEntry e;
        Map<Path, Long> dirTimes = new HashMap<>();
        while ((e = tar.getNextEntry()) != null) {
            Path rel = Path.of(e.getName()).normalize();
            if (rel.isAbsolute() || rel.startsWith("..")) {
                throw EngineException.invalid("invalid archive entry " + e.getName() + ": it would leave the destination");
            }
            if (rel.toString().isEmpty()) {
                continue;
            }
            Path parent = rel.getParent() == null ? dest : RootfsPaths.resolve(dest, rel.getParent().toString());
            Files.createDirectories(parent);
            Path target = parent.resolve(rel.getFileName().toString());
            boolean exists = Files.exists(target, LinkOption.NOFOLLOW_LINKS);
            boolean existingDir = exists && Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS);
            if (exists && noOverwriteDirNonDir && existingDir != e.isDirectory()) {
                throw EngineException.invalid("cannot overwrite " + (existingDir ? "directory" : "non-directory") + " \"/"
                        + rel + "\" with " + (e.isDirectory() ? "directory" : "non-directory"));
            }
            if (e.isDirectory()) {
                if (exists && !existingDir) {
                    Files.delete(target);
                }
                if (!existingDir) {
                    Files.createDirectory(target);
                }
                dirTimes.put(target, e.getModTime().getTime());
            } else {
                if (existingDir) {
                    io.dockgate.files.FileTrees.delete(target);
                } else if (exists) {
                    Files.delete(target);
                }
                if (e.isSymbolicLink()) {
                    Files.createSymbolicLink(target, Path.of(e.getLinkName()));
                } else if (e.isLink()) {
                    Path linked = RootfsPaths.resolve(dest, Path.of(e.getLinkName()).normalize().toString());
                    if (!linked.startsWith(dest) || !Files.isRegularFile(linked, LinkOption.NOFOLLOW_LINKS)) {
                        throw EngineException.invalid("invalid hard link " + e.getName() + " -> " + e.getLinkName());
                    }
                    Files.createLink(target, linked);
                    continue;
                } else if (e.isFile()) {
                    Path tmp = parent.resolve(".dockgate-cp-" + rel.getFileName());
                    Files.copy(tar, tmp, StandardCopyOption.REPLACE_EXISTING);
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                } else {
                    continue; // devices and fifos are not created by docker cp
                }
            }
            int uid = copyUidGid ? (int) e.getLongUserId() : 0;
            int gid = copyUidGid ? (int) e.getLongGroupId() : 0;
            Files.setAttribute(target, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(target, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
            if (!e.isSymbolicLink()) {
                Syscalls.chmod(target.toString(), e.getMode());
                Files.setLastModifiedTime(target, FileTime.fromMillis(e.getModTime().getTime()));
            }
        }
        // directory times last: writing into them changed them
        dirTimes.entrySet().stream().sorted(Map.Entry.comparingByKey(Comparator.reverseOrder())).forEach(d -> {
            try {
                Files.setLastModifiedTime(d.getKey(), FileTime.fromMillis(d.getValue()));
            } catch (IOException ignored) {
                // best effort, as tar does
            }
        });
    }
}
