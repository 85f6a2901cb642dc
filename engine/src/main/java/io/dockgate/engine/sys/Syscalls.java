package io.dockgate.engine.sys;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;

/**
 * Checked wrappers around {@link LibC}: each throws an IOException naming the call, the path and the
 * errno text. Blocking; never call from an event loop.
 */
public final class Syscalls {
    public static final int S_IFCHR = 0020000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFIFO = 0010000;
    public static final int MNT_DETACH = 2;
    static final int O_WRONLY = 01;
    static final int O_NONBLOCK = 04000;
    static final int O_DIRECTORY = 0200000;
    static final int O_CLOEXEC = 02000000;
    static final int O_PATH = 010000000;
    public static final int ENXIO = 6;
    public static final int ENOENT = 2;
    public static final int EINVAL = 22;
    public static final int ENODATA = 61;

    private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
    private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

    private Syscalls() {
    }

    /** A failed call with its errno. */
    public static final class ErrnoException extends IOException {
        private final int errno;

        ErrnoException(String message, int errno) {
            super(message);
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }
    }

    private static void check(int rc, String call, String path) throws ErrnoException {
        if (rc < 0) {
            int errno = RUNTIME.getLastError();
            throw new ErrnoException(call + " " + path + ": " + LIBC.strerror(errno), errno);
        }
    }

    /** makedev as glibc encodes it. */
    public static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8) | ((minor & 0xffffff00L) << 12) | (minor & 0xffL);
    }

    public static void mknod(String path, int mode, long major, long minor) throws ErrnoException {
        check(LIBC.mknod(path, mode, makedev(major, minor)), "mknod", path);
    }

    /** chmod with the full 12-bit mode (setuid, setgid and sticky included), which java.nio cannot set. */
    public static void chmod(String path, int mode) throws ErrnoException {
        check(LIBC.chmod(path, mode & 07777), "chmod", path);
    }

    /** Owner and group in one call, not following a symlink. */
    public static void lchown(String path, int uid, int gid) throws ErrnoException {
        check(LIBC.lchown(path, uid, gid), "lchown", path);
    }

    public static void lsetxattr(String path, String name, byte[] value) throws ErrnoException {
        check(LIBC.lsetxattr(path, name, value, value.length, 0), "lsetxattr " + name, path);
    }

    /** The attribute's value, or null when the file does not have it. */
    public static byte[] lgetxattr(String path, String name) throws ErrnoException {
        byte[] buffer = new byte[4096];
        long n = LIBC.lgetxattr(path, name, buffer, buffer.length);
        if (n < 0) {
            int errno = RUNTIME.getLastError();
            if (errno == ENODATA) {
                return null;
            }
            throw new ErrnoException("lgetxattr " + name + " " + path + ": " + LIBC.strerror(errno), errno);
        }
        byte[] value = new byte[(int) n];
        System.arraycopy(buffer, 0, value, 0, (int) n);
        return value;
    }

    public static void mount(String source, String target, String fstype, long flags, String data) throws ErrnoException {
        check(LIBC.mount(source, target, fstype, flags, data), "mount " + fstype, target);
    }

    public static void umount(String target, int flags) throws ErrnoException {
        check(LIBC.umount2(target, flags), "umount", target);
    }

    public static void kill(int pid, int signal) throws ErrnoException {
        check(LIBC.kill(pid, signal), "kill " + signal, Integer.toString(pid));
    }

    /** Flushes the whole filesystem holding path to disk (one call instead of an fsync per file). */
    private static final long FS_IOC_GETFLAGS = 0x80086601L;
    private static final long FS_IOC_SETFLAGS = 0x40086602L;
    private static final int FS_TOPDIR_FL = 0x00020000;

    /**
     * Marks a directory as the top of a hierarchy (chattr +T): ext4's allocator then spreads the directories
     * made in it over the block groups, so the files of each land where inodes are free, rather than all
     * in the parent's group past every inode deleted there lately (which ext4 without a journal checks one
     * by one). Returns false where the filesystem has no such flag (not ext2/3/4).
     */
    public static boolean markTopDirectory(String path) throws ErrnoException {
        int fd = LIBC.open(path, O_DIRECTORY | O_CLOEXEC);
        check(fd, "open", path);
        try {
            int[] flags = new int[1];
            if (LIBC.ioctl(fd, FS_IOC_GETFLAGS, flags) < 0) {
                return false;
            }
            if ((flags[0] & FS_TOPDIR_FL) != 0) {
                return true;
            }
            flags[0] |= FS_TOPDIR_FL;
            return LIBC.ioctl(fd, FS_IOC_SETFLAGS, flags) == 0;
        } finally {
            LIBC.close(fd);
        }
    }

    public static void syncfs(String path) throws ErrnoException {
        int fd = LIBC.open(path, 0 /* O_RDONLY */);
        check(fd, "open", path);
        try {
            check(LIBC.syncfs(fd), "syncfs", path);
        } finally {
            LIBC.close(fd);
        }
    }

    /**
     * Writes a short message to a FIFO without blocking: when nobody reads it (the shim is gone) the
     * open fails with ENXIO instead of hanging.
     */
    public static void writeFifo(String path, byte[] message) throws ErrnoException {
        int fd = LIBC.open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        check(fd, "open", path);
        try {
            check((int) LIBC.write(fd, message, message.length), "write", path);
        } finally {
            LIBC.close(fd);
        }
    }

    static LibC libc() {
        return LIBC;
    }

    static int lastError() {
        return RUNTIME.getLastError();
    }

    static String strerror(int errno) {
        return LIBC.strerror(errno);
    }

    public static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
