package io.dockgate.engine.image;

import io.dockgate.engine.sys.Syscalls;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Applies one layer tar to an empty directory, the way overlayfs expects it: {@code .wh.NAME} entries
 * become character devices 0/0 and {@code .wh..wh..opq} marks its directory opaque
 * ({@code trusted.overlay.opaque=y}). Owners, full modes (setuid included), times, device nodes, FIFOs
 * and extended attributes are kept. Anything that could write outside the directory is refused:
 * absolute names, {@code ..}, entries below a symlink, relative symlinks and hardlinks that leave the
 * layer, duplicate entries, unknown entry types. The tar is recorded by {@link TarSplit} as it goes.
 */
public final class LayerUnpacker {
    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};
    private static final String WHITEOUT = ".wh.";
    private static final String OPAQUE = ".wh..wh..opq";

    /** What an unpack produced. */
    public record Result(Digest diffId, long tarSize, long contentSize) {
    }

    private LayerUnpacker() {
    }

    /** Wraps a possibly compressed layer stream (gzip or zstd, by magic number) in a decompressor. */
    public static InputStream decompress(InputStream raw) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, 65536);
        in.mark(8);
        byte[] magic = in.readNBytes(4);
        in.reset();
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return new GZIPInputStream(in, 65536);
        }
        if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5 && (magic[2] & 0xff) == 0x2f
                && (magic[3] & 0xff) == 0xfd) {
            return new com.github.luben.zstd.ZstdInputStream(in);
        }
        if (magic.length >= 3 && magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h') {
            throw new InvalidLayerException("bzip2-compressed layers are not supported (use gzip or zstd)");
        }
        return in;
    }

    /**
     * Unpacks the (uncompressed) tar stream into root, recording the tar-split into splitOut.
     *
     * @param limit maximum number of uncompressed bytes (decompression-bomb cap)
     */
    public static Result unpack(InputStream tar, Path root, OutputStream splitOut, long limit) throws IOException {
        return unpack(tar, root, splitOut, limit, true);
    }

    /**
     * Unpacks a tar that is not a layer (a build context) by the same rules, without computing a DiffID
     * (the result's is null) and without recording a tar-split.
     */
    public static Result unpackTree(InputStream tar, Path root, long limit) throws IOException {
        return unpack(tar, root, OutputStream.nullOutputStream(), limit, false);
    }

    private static Result unpack(InputStream tar, Path root, OutputStream splitOut, long limit, boolean digesting) throws IOException {
        Files.createDirectories(root);
        try (TarSplit.Recorder recorder = new TarSplit.Recorder(tar, splitOut, limit, digesting)) {
            TarArchiveInputStream archive = new TarArchiveInputStream(recorder, 512, 512, StandardCharsets.UTF_8.name(), false);
            Set<String> seen = new HashSet<>();
            Set<String> directories = new HashSet<>(); // verified real directories: nothing in one unpack replaces a path
            byte[] buffer = new byte[COPY_BUFFER];
            boolean createdAsRoot = Integer.valueOf(0).equals(Files.getAttribute(root, "unix:uid", NOFOLLOW))
                    && Integer.valueOf(0).equals(Files.getAttribute(root, "unix:gid", NOFOLLOW))
                    && (((Integer) Files.getAttribute(root, "unix:mode", NOFOLLOW)) & 02000) == 0;
            List<Object[]> directoryTimes = new ArrayList<>();
            long content = 0;
            TarArchiveEntry entry;
            boolean any = false;
            while ((entry = nextEntry(archive)) != null) {
                any = true;
                String name = clean(entry.getName());
                if (name.isEmpty()) {
                    continue; // "./": the root itself
                }
                if (!seen.add(name)) {
                    throw new InvalidLayerException("duplicate entry " + name);
                }
                String base = name.substring(name.lastIndexOf('/') + 1);
                String parentName = name.contains("/") ? name.substring(0, name.lastIndexOf('/')) : "";
                Path parent = parentName.isEmpty() ? root : root.resolve(parentName);
                ensureParents(root, parentName, directories);
                if (base.equals(OPAQUE)) {
                    Syscalls.lsetxattr(parent.toString(), "trusted.overlay.opaque", new byte[] {'y'});
                    continue;
                }
                if (base.startsWith(WHITEOUT)) {
                    String hidden = base.substring(WHITEOUT.length());
                    if (hidden.isEmpty() || hidden.equals(".") || hidden.equals("..")) {
                        throw new InvalidLayerException("invalid whiteout " + name);
                    }
                    Path target = parent.resolve(hidden);
                    if (!seen.add((parentName.isEmpty() ? "" : parentName + "/") + hidden)) {
                        throw new InvalidLayerException("whiteout " + name + " names an entry of the same layer");
                    }
                    Syscalls.mknod(target.toString(), Syscalls.S_IFCHR | 0, 0, 0);
                    continue;
                }
                Path path = root.resolve(name);
                boolean modeSet = false; // created with the entry's permissions, nothing masked off: no chmod needed
                if (entry.isDirectory()) {
                    if (!Files.isDirectory(path, NOFOLLOW)) {
                        Files.createDirectory(path, permissions(entry.getMode()));
                        modeSet = createdExactly(entry.getMode());
                    }
                    directories.add(name);
                } else if (entry.isSymbolicLink()) {
                    checkSymlink(root, name, entry.getLinkName());
                    Files.createSymbolicLink(path, Path.of(entry.getLinkName()));
                } else if (entry.isLink()) {
                    String targetName = clean(entry.getLinkName());
                    if (targetName.isEmpty() || !seen.contains(targetName)) {
                        throw new InvalidLayerException("hardlink " + name + " -> " + entry.getLinkName()
                                + " does not point to an earlier entry of the layer");
                    }
                    Path target = root.resolve(targetName);
                    ensureNoSymlinkParents(root, targetName);
                    Files.createLink(path, target);
                    continue; // a hardlink shares the target's metadata
                } else if (entry.isFile()) {
                    recorder.beginContent(name, entry.getSize());
                    try (OutputStream out = java.nio.channels.Channels.newOutputStream(Files.newByteChannel(path,
                            java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                            permissions(entry.getMode())))) {
                        modeSet = createdExactly(entry.getMode());
                        long copied = copy(archive, out, buffer);
                        if (copied != entry.getSize()) {
                            throw new InvalidLayerException("truncated layer: " + name + " has " + copied + " of "
                                    + entry.getSize() + " bytes");
                        }
                        content += copied;
                    } finally {
                        recorder.endContent();
                    }
                } else if (entry.isCharacterDevice() || entry.isBlockDevice() || entry.isFIFO()) {
                    int type = entry.isCharacterDevice() ? Syscalls.S_IFCHR : entry.isBlockDevice() ? Syscalls.S_IFBLK : Syscalls.S_IFIFO;
                    Syscalls.mknod(path.toString(), type | (entry.getMode() & 07777), entry.getDevMajor(), entry.getDevMinor());
                } else {
                    throw new InvalidLayerException("unsupported tar entry type for " + name);
                }
                applyMetadata(path, entry, createdAsRoot, modeSet);
                if (entry.isDirectory() && (entry.getMode() & 02000) != 0) {
                    createdAsRoot = false; // entries below take its group
                }
                if (entry.isDirectory()) {
                    directoryTimes.add(new Object[] {path, entry.getLastModifiedTime()});
                }
            }
            if (!any && recorder.count() == 0) {
                throw new InvalidLayerException("empty layer stream (no tar data)");
            }
            recorder.drain();
            for (int i = directoryTimes.size() - 1; i >= 0; i--) {
                Object[] d = directoryTimes.get(i);
                setTimes((Path) d[0], (FileTime) d[1]);
            }
            Digest diffId = recorder.finish();
            return new Result(diffId, recorder.count(), content);
        }
    }

    /** The process's umask, read once by creating a file asking for every permission bit. */
    private static final int UMASK = readUmask();

    private static int readUmask() {
        try {
            Path probe = Files.createTempFile("dockgate-umask", "");
            try {
                Files.delete(probe);
                Files.createFile(probe, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx")));
                int mode = (Integer) Files.getAttribute(probe, "unix:mode") & 0777;
                return ~mode & 0777;
            } finally {
                Files.deleteIfExists(probe);
            }
        } catch (IOException | RuntimeException e) {
            return 0777; // unknown: every mode is set with chmod
        }
    }

    private static java.nio.file.attribute.FileAttribute<java.util.Set<java.nio.file.attribute.PosixFilePermission>> permissions(int mode) {
        java.util.Set<java.nio.file.attribute.PosixFilePermission> set = java.util.EnumSet.noneOf(java.nio.file.attribute.PosixFilePermission.class);
        java.nio.file.attribute.PosixFilePermission[] bits = java.nio.file.attribute.PosixFilePermission.values(); // OWNER_READ first
        for (int i = 0; i < 9; i++) {
            if ((mode & (0400 >> i)) != 0) {
                set.add(bits[i]);
            }
        }
        return java.nio.file.attribute.PosixFilePermissions.asFileAttribute(set);
    }

    /** Whether creating with the mode's permission bits gives exactly the mode: no special bits, nothing the umask removes. */
    private static boolean createdExactly(int mode) {
        return (mode & 07000) == 0 && (mode & 0777 & UMASK) == 0;
    }

    /** File contents move in 64 KiB writes (transferTo's 8 KiB made eight times the system calls). */
    private static final int COPY_BUFFER = 64 * 1024;

    private static long copy(InputStream in, OutputStream out, byte[] buffer) throws IOException {
        long total = 0;
        int n;
        while ((n = in.read(buffer)) > 0) {
            out.write(buffer, 0, n);
            total += n;
        }
        return total;
    }

    private static TarArchiveEntry nextEntry(TarArchiveInputStream archive) throws IOException {
        try {
            return archive.getNextEntry();
        } catch (IllegalArgumentException e) {
            throw new InvalidLayerException("corrupt tar header: " + e.getMessage());
        } catch (IOException e) {
            if (e instanceof TarSplit.LayerTooLargeException) {
                throw e;
            }
            if (e.getMessage() != null && (e.getMessage().contains("Truncated") || e.getMessage().contains("Corrupt") || e.getMessage().contains("EOF")
                    || e.getMessage().contains("parse") || e.getMessage().contains("header"))) {
                throw new InvalidLayerException("corrupt or truncated tar: " + e.getMessage());
            }
            throw e;
        }
    }

    /** Normalises an entry name: drops "./" and empty components; refuses absolute names and "..". */
    static String clean(String name) throws InvalidLayerException {
        if (name.startsWith("/")) {
            throw new InvalidLayerException("absolute path in layer: " + name);
        }
        if (name.indexOf('\0') >= 0) {
            throw new InvalidLayerException("NUL in entry name");
        }
        StringBuilder sb = new StringBuilder();
        for (String part : name.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                throw new InvalidLayerException("path escapes the layer: " + name);
            }
            if (sb.length() > 0) {
                sb.append('/');
            }
            sb.append(part);
        }
        return sb.toString();
    }

    /**
     * Creates missing parent directories (0755) and refuses a parent that is not a real directory. A directory
     * verified or made once in this unpack is not looked at again: no entry replaces an existing path (every
     * kind of creation fails on one), so it stays a real directory.
     */
    private static void ensureParents(Path root, String parentName, Set<String> directories) throws IOException {
        if (parentName.isEmpty() || directories.contains(parentName)) {
            return;
        }
        Path current = root;
        int from = 0;
        while (from <= parentName.length()) {
            int slash = parentName.indexOf('/', from);
            int end = slash < 0 ? parentName.length() : slash;
            String prefix = parentName.substring(0, end);
            current = current.resolve(parentName.substring(from, end));
            if (!directories.contains(prefix)) {
                if (Files.isSymbolicLink(current)) {
                    throw new InvalidLayerException("entry below a symlink: " + parentName + " passes through " + root.relativize(current));
                }
                if (!Files.exists(current, NOFOLLOW)) {
                    Files.createDirectory(current);
                } else if (!Files.isDirectory(current, NOFOLLOW)) {
                    throw new InvalidLayerException("entry below a non-directory: " + root.relativize(current));
                }
                directories.add(prefix);
            }
            from = end + 1;
        }
    }

    private static void ensureNoSymlinkParents(Path root, String name) throws IOException {
        Path current = root;
        String[] parts = name.split("/");
        for (int i = 0; i < parts.length - 1; i++) {
            current = current.resolve(parts[i]);
            if (Files.isSymbolicLink(current)) {
                throw new InvalidLayerException("hardlink target below a symlink: " + name);
            }
        }
    }

    /** A relative symlink target must stay inside the layer when resolved from the link's directory. */
    private static void checkSymlink(Path root, String name, String target) throws InvalidLayerException {
        if (target.isEmpty()) {
            throw new InvalidLayerException("empty symlink target for " + name);
        }
        if (target.startsWith("/")) {
            return; // resolved against the container's root, never the host's
        }
        int depth = name.split("/").length - 1;
        for (String part : target.split("/")) {
            if (part.equals("..")) {
                depth--;
                if (depth < 0) {
                    throw new InvalidLayerException("symlink escapes the layer: " + name + " -> " + target);
                }
            } else if (!part.isEmpty() && !part.equals(".")) {
                depth++;
            }
        }
    }

    /**
     * Owner, mode, xattrs and times of what an entry made. The owner is set unless it is 0:0 and what this
     * unpack creates is 0:0 anyway ({@code createdAsRoot}: the daemon is root and no setgid directory, whose
     * group new entries inherit, has appeared).
     */
    private static void applyMetadata(Path path, TarArchiveEntry entry, boolean createdAsRoot, boolean modeSet) throws IOException {
        int uid = (int) entry.getLongUserId();
        int gid = (int) entry.getLongGroupId();
        if (uid != 0 || gid != 0 || !createdAsRoot) {
            Syscalls.lchown(path.toString(), uid, gid);
        }
        if (!entry.isSymbolicLink() && !modeSet) {
            Syscalls.chmod(path.toString(), entry.getMode());
        }
        for (Map.Entry<String, String> header : entry.getExtraPaxHeaders().entrySet()) {
            if (header.getKey().startsWith("SCHILY.xattr.")) {
                String attribute = header.getKey().substring("SCHILY.xattr.".length());
                Syscalls.lsetxattr(path.toString(), attribute, header.getValue().getBytes(StandardCharsets.ISO_8859_1));
            }
        }
        if (!entry.isDirectory()) {
            setTimes(path, entry.getLastModifiedTime());
        }
    }

    private static void setTimes(Path path, FileTime time) throws IOException {
        Files.getFileAttributeView(path, BasicFileAttributeView.class, NOFOLLOW).setTimes(time, time, null);
    }

    /** A layer that must not be applied, with the reason. */
    public static final class InvalidLayerException extends IOException {
        public InvalidLayerException(String message) {
            super(message);
        }
    }
}
