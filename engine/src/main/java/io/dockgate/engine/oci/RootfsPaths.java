package io.dockgate.engine.oci;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Resolves a path inside a container's root filesystem the way the container would see it: symlinks
 * are followed, but absolute targets and {@code ..} never leave the root (a hostile image cannot make
 * the daemon read or write a host file through its /etc/passwd).
 */
public final class RootfsPaths {
    private RootfsPaths() {
    }

    public static Path resolve(Path root, String containerPath) throws IOException {
        String names = resolveNames(containerPath, name -> {
            Path candidate = root.resolve(name);
            return Files.isSymbolicLink(candidate) ? Files.readSymbolicLink(candidate).toString() : null;
        });
        return names.isEmpty() ? root : root.resolve(names);
    }

    /** The target of a symbolic link at a relative name ("a/b"), or null when that is no link. */
    public interface Links {
        String target(String name) throws IOException;
    }

    /**
     * The algorithm of {@link #resolve}, over any tree that can say where its links point: the relative
     * name ("a/b", "" for the root) a path stands for, links followed (40 at most), absolute targets
     * starting again at the root, {@code ..} stopping at it.
     */
    public static String resolveNames(String containerPath, Links links) throws IOException {
        Deque<String> pending = new ArrayDeque<>();
        push(pending, containerPath);
        Deque<String> resolved = new ArrayDeque<>();
        int followed = 0;
        while (!pending.isEmpty()) {
            String part = pending.pop();
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (!resolved.isEmpty()) {
                    resolved.removeLast();
                }
                continue;
            }
            String candidate = resolved.isEmpty() ? part : String.join("/", resolved) + "/" + part;
            String target = links.target(candidate);
            if (target != null) {
                if (++followed > 40) {
                    throw new IOException("too many levels of symbolic links in " + containerPath);
                }
                if (target.startsWith("/")) {
                    resolved.clear();
                }
                push(pending, target);
                continue;
            }
            resolved.addLast(part);
        }
        return String.join("/", resolved);
    }

    private static void push(Deque<String> pending, String path) {
        String[] parts = path.split("/");
        for (int i = parts.length - 1; i >= 0; i--) {
            pending.push(parts[i]);
        }
    }

    /** Reads a small file inside the root, or returns null when it does not exist or is not a regular file. */
    public static String readIfPresent(Path root, String containerPath) throws IOException {
        Path p = resolve(root, containerPath);
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || Files.size(p) > 8 << 20) {
            return null;
        }
        return Files.readString(p);
    }
}
