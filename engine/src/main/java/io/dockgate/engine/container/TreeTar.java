package io.dockgate.engine.container;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Writes a directory tree (or one file) as a tar, as Docker's export and cp do: owners, modes, times,
 * symlinks (never followed), hardlinks (the second name of an inode links to the first), and with
 * {@code devices} also device nodes and FIFOs; sockets are skipped. {@code names} maps a path in the
 * tree to its entry name.
 */
final class TreeTar {
    private TreeTar() {
    }

    static void write(Path root, Function<Path, String> names, boolean devices, OutputStream target) throws IOException {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(target);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        Map<String, String> seenInodes = new HashMap<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                put(dir, attrs);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                put(file, attrs);
                return FileVisitResult.CONTINUE;
            }

            private void put(Path path, BasicFileAttributes attrs) throws IOException {
                String name = names.apply(path);
                if (name == null) {
                    return;
                }
                Map<String, Object> unix = Files.readAttributes(path, "unix:mode,uid,gid,rdev,ino,dev,nlink", LinkOption.NOFOLLOW_LINKS);
                int mode = (Integer) unix.get("mode");
                int type = mode & 0170000;
                TarArchiveEntry e;
                boolean content = false;
                if (attrs.isSymbolicLink()) {
                    e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
                    e.setLinkName(Files.readSymbolicLink(path).toString());
                } else if (attrs.isDirectory()) {
                    e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/");
                } else if (attrs.isRegularFile()) {
                    String inode = unix.get("dev") + ":" + unix.get("ino");
                    String first = (Integer) unix.get("nlink") > 1 ? seenInodes.putIfAbsent(inode, name) : null;
                    if (first != null) {
                        e = new TarArchiveEntry(name, TarArchiveEntry.LF_LINK);
                        e.setLinkName(first);
                    } else {
                        e = new TarArchiveEntry(name, true);
                        e.setSize(attrs.size());
                        content = true;
                    }
                } else if (devices && (type == 0020000 || type == 0060000)) {
                    e = new TarArchiveEntry(name, type == 0020000 ? TarArchiveEntry.LF_CHR : TarArchiveEntry.LF_BLK);
                    long rdev = (Long) unix.get("rdev");
                    e.setDevMajor((int) (((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfffL)));
                    e.setDevMinor((int) ((rdev & 0xff) | ((rdev >> 12) & ~0xffL)));
                } else if (devices && type == 0010000) {
                    e = new TarArchiveEntry(name, TarArchiveEntry.LF_FIFO);
                } else {
                    return; // sockets; devices and FIFOs when not asked for
                }
                e.setMode(mode);
                e.setUserId((Integer) unix.get("uid"));
                e.setGroupId((Integer) unix.get("gid"));
                e.setModTime(attrs.lastModifiedTime().toMillis());
                tar.putArchiveEntry(e);
                if (content) {
                    try (InputStream in = Files.newInputStream(path, LinkOption.NOFOLLOW_LINKS)) {
                        long copied = in.transferTo(tar);
                        if (copied != e.getSize()) {
                            throw new IOException(path + " changed size while it was archived");
                        }
                    }
                }
                tar.closeArchiveEntry();
            }
        });
        tar.finish();
        tar.flush();
    }
}
