package io.dockgate.engine.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Network namespaces kept as bind-mounted files (as {@code ip netns} keeps them, but under the daemon's
 * own directory): created, entered and left on one dedicated thread, since {@code unshare} and
 * {@code setns} change only the calling thread; no other code runs on that thread, and it always
 * returns to the daemon's namespace before the next task.
 */
public final class NetNamespaces {
    private static final int CLONE_NEWNET = 0x40000000;
    private static final int O_RDONLY = 0;
    private static final long MS_BIND = 4096;
    private static final long MS_PRIVATE = 1 << 18;
    private static final ExecutorService THREAD = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "dockgate-netns");
        t.setDaemon(true);
        return t;
    });

    private NetNamespaces() {
    }

    private static <T> T onThread(Callable<T> work) throws IOException {
        Future<T> f = THREAD.submit(work);
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(e.getCause());
        }
    }

    /**
     * Makes dir a mount point of its own with private propagation, so that the namespaces mounted below
     * it are not copied into, and kept alive by, other mount namespaces.
     */
    public static void preparePrivateDirectory(Path dir) throws IOException {
        Files.createDirectories(dir);
        boolean mounted = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .map(l -> l.split(" "))
                .anyMatch(f -> f.length > 4 && f[4].equals(dir.toAbsolutePath().toString()));
        if (!mounted) {
            Syscalls.mount(dir.toString(), dir.toString(), "none", MS_BIND, null);
        }
        Syscalls.mount("none", dir.toString(), null, MS_PRIVATE, null);
    }

    /** Creates a new network namespace, held by a bind mount at file (which must not exist). */
    public static void create(Path file) throws IOException {
        onThread(() -> {
            LibC libc = Syscalls.libc();
            int original = libc.open("/proc/thread-self/ns/net", O_RDONLY | Syscalls.O_CLOEXEC);
            if (original < 0) {
                throw error("open /proc/thread-self/ns/net");
            }
            try {
                Files.createFile(file);
                if (libc.unshare(CLONE_NEWNET) < 0) {
                    throw error("unshare(CLONE_NEWNET)");
                }
                try {
                    Syscalls.mount("/proc/thread-self/ns/net", file.toString(), "none", MS_BIND, null);
                } finally {
                    if (libc.setns(original, CLONE_NEWNET) < 0) {
                        // the thread cannot go back: never run anything else on it
                        Runtime.getRuntime().halt(70);
                    }
                }
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(file);
                throw e;
            } finally {
                libc.close(original);
            }
            return null;
        });
    }

    /** Removes a namespace's mount and file (the namespace ends when nothing else holds it). */
    public static void delete(Path file) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        try {
            Syscalls.umount(file.toString(), Syscalls.MNT_DETACH);
        } catch (Syscalls.ErrnoException e) {
            if (e.errno() != Syscalls.EINVAL) { // not mounted (a crash between create and mount)
                throw e;
            }
        }
        Files.deleteIfExists(file);
    }

    /** Runs work inside the namespace at file (sockets it opens belong to that namespace), then comes back. */
    public static <T> T inside(Path file, Callable<T> work) throws IOException {
        return onThread(() -> {
            LibC libc = Syscalls.libc();
            int original = libc.open("/proc/thread-self/ns/net", O_RDONLY | Syscalls.O_CLOEXEC);
            int target = libc.open(file.toString(), O_RDONLY | Syscalls.O_CLOEXEC);
            if (original < 0 || target < 0) {
                IOException e = error("open " + file);
                libc.close(original);
                libc.close(target);
                throw e;
            }
            try {
                if (libc.setns(target, CLONE_NEWNET) < 0) {
                    throw error("setns " + file);
                }
                try {
                    return work.call();
                } finally {
                    if (libc.setns(original, CLONE_NEWNET) < 0) {
                        Runtime.getRuntime().halt(70);
                    }
                }
            } finally {
                libc.close(original);
                libc.close(target);
            }
        });
    }

    /** Opens the namespace file (for IFLA_NET_NS_FD); close it with {@link #close}. */
    public static int open(Path file) throws IOException {
        int fd = Syscalls.libc().open(file.toString(), O_RDONLY | Syscalls.O_CLOEXEC);
        if (fd < 0) {
            throw error("open " + file);
        }
        return fd;
    }

    public static void close(int fd) {
        Syscalls.libc().close(fd);
    }

    private static Syscalls.ErrnoException error(String call) {
        int errno = Syscalls.lastError();
        return new Syscalls.ErrnoException(call + ": " + Syscalls.strerror(errno), errno);
    }
}
