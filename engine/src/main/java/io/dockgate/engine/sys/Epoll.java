package io.dockgate.engine.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A small epoll set of its own (jnr-ffi): file descriptors registered with an event mask and a 64-bit
 * tag, and a blocking wait that returns the tags of those that fired. For watching sockets that the
 * event loop's own epoll set no longer reports (a peer's hang-up on a half-closed connection).
 */
public final class Epoll implements AutoCloseable {
    public static final int EPOLLIN = 0x001;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    public static final int EPOLLRDHUP = 0x2000;
    public static final int EPOLLET = 1 << 31;
    private static final int EPOLL_CLOEXEC = 02000000;
    private static final int ADD = 1;
    private static final int DEL = 2;
    /** struct epoll_event is packed on x86-64 (4 + 8 bytes); elsewhere the 64-bit data is aligned. */
    private static final boolean PACKED = System.getProperty("os.arch", "").matches("amd64|x86_64");
    private static final int DATA_OFFSET = PACKED ? 4 : 8;
    private static final int EVENT_SIZE = PACKED ? 12 : 16;

    private final int fd;

    public Epoll() throws Syscalls.ErrnoException {
        fd = Syscalls.libc().epoll_create1(EPOLL_CLOEXEC);
        if (fd < 0) {
            throw error("epoll_create1");
        }
    }

    /** Registers fd for the events (EPOLLHUP and EPOLLERR are always reported), tagged with tag. */
    public void add(int target, int events, long tag) throws Syscalls.ErrnoException {
        ByteBuffer b = ByteBuffer.allocate(EVENT_SIZE).order(ByteOrder.nativeOrder());
        b.putInt(0, events).putLong(DATA_OFFSET, tag);
        if (Syscalls.libc().epoll_ctl(fd, ADD, target, b.array()) < 0) {
            throw error("epoll_ctl ADD " + target);
        }
    }

    /** Removes fd; false when it was not registered (or is closed already, which removed it). */
    public boolean remove(int target) {
        return Syscalls.libc().epoll_ctl(fd, DEL, target, new byte[EVENT_SIZE]) == 0;
    }

    /** Waits up to timeoutMillis (-1: forever) and returns the tags of the descriptors that fired (EINTR: none). */
    public long[] await(int max, int timeoutMillis) throws Syscalls.ErrnoException {
        byte[] events = new byte[max * EVENT_SIZE];
        int n = Syscalls.libc().epoll_wait(fd, events, max, timeoutMillis);
        if (n < 0) {
            if (Syscalls.lastError() == 4 /* EINTR */) {
                return new long[0];
            }
            throw error("epoll_wait");
        }
        ByteBuffer b = ByteBuffer.wrap(events).order(ByteOrder.nativeOrder());
        long[] tags = new long[n];
        for (int i = 0; i < n; i++) {
            tags[i] = b.getLong(i * EVENT_SIZE + DATA_OFFSET);
        }
        return tags;
    }

    private static Syscalls.ErrnoException error(String what) {
        int errno = Syscalls.lastError();
        return new Syscalls.ErrnoException(what + ": " + Syscalls.strerror(errno), errno);
    }

    @Override
    public void close() {
        Syscalls.libc().close(fd);
    }
}
