package io.dockgate.engine.sys;

import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A connected AF_UNIX SOCK_SEQPACKET socket (conmon's attach socket), which java.nio cannot open: it
 * knows only stream sockets. Message boundaries are kept: each {@link #receive} returns one message.
 * The socket's directory is opened first and the socket reached through {@code /proc/self/fd/N/}, so
 * paths longer than sun_path's 108 bytes work.
 */
public final class SeqPacketSocket implements Closeable {
    private static final int AF_UNIX = 1;
    private static final int SOCK_SEQPACKET = 5;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int SHUT_WR = 1;
    private static final int SHUT_RDWR = 2;
    private static final int EINTR = 4;

    private final int fd;
    private volatile boolean closed;
    private boolean released;

    private SeqPacketSocket(int fd) {
        this.fd = fd;
    }

    public static SeqPacketSocket connect(Path socket) throws IOException {
        LibC libc = Syscalls.libc();
        Path dir = socket.toAbsolutePath().getParent();
        int dirFd = libc.open(dir.toString(), Syscalls.O_PATH | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC);
        if (dirFd < 0) {
            throw error("open", dir.toString());
        }
        try {
            int fd = libc.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw error("socket", socket.toString());
            }
            byte[] path = ("/proc/self/fd/" + dirFd + "/" + socket.getFileName()).getBytes(StandardCharsets.UTF_8);
            byte[] address = new byte[2 + path.length + 1];
            address[0] = AF_UNIX; // sa_family_t, little endian
            System.arraycopy(path, 0, address, 2, path.length);
            if (libc.connect(fd, address, address.length) < 0) {
                Syscalls.ErrnoException e = error("connect", socket.toString());
                libc.close(fd);
                throw e;
            }
            return new SeqPacketSocket(fd);
        } finally {
            libc.close(dirFd);
        }
    }

    private static Syscalls.ErrnoException error(String call, String path) {
        int errno = Syscalls.lastError();
        return new Syscalls.ErrnoException(call + " " + path + ": " + Syscalls.strerror(errno), errno);
    }

    /** Blocks for the next message; returns its length, or -1 at end of stream (or once closed). */
    public int receive(byte[] buffer) throws IOException {
        while (true) {
            long n = Syscalls.libc().recv(fd, buffer, buffer.length, 0);
            if (n > 0) {
                return (int) n;
            }
            if (n == 0 || closed) {
                return -1;
            }
            int errno = Syscalls.lastError();
            if (errno != EINTR) {
                throw new Syscalls.ErrnoException("recv: " + Syscalls.strerror(errno), errno);
            }
        }
    }

    /** Sends one message (blocking while the peer's buffer is full). */
    public synchronized void send(byte[] data, int offset, int length) throws IOException {
        if (released) {
            throw new IOException("socket closed");
        }
        byte[] message = offset == 0 && length == data.length ? data : java.util.Arrays.copyOfRange(data, offset, offset + length);
        while (true) {
            long n = Syscalls.libc().send(fd, message, message.length, MSG_NOSIGNAL);
            if (n >= 0) {
                return;
            }
            int errno = Syscalls.lastError();
            if (errno != EINTR) {
                throw new Syscalls.ErrnoException("send: " + Syscalls.strerror(errno), errno);
            }
        }
    }

    /** Ends our direction: the peer reads end of stream (conmon then closes the container's stdin). */
    public synchronized void shutdownOutput() {
        if (released) {
            return;
        }
        Syscalls.libc().shutdown(fd, SHUT_WR);
    }

    /** Wakes a blocked {@link #receive} and releases the descriptor once it returns. */
    @Override
    public synchronized void close() {
        if (!closed && !released) {
            closed = true;
            Syscalls.libc().shutdown(fd, SHUT_RDWR);
        }
    }

    /** Releases the descriptor; call from the thread that receives, after it stopped. */
    public void release() {
        closed = true;
        Syscalls.libc().shutdown(fd, SHUT_RDWR); // wakes a sender blocked on a full buffer
        synchronized (this) {
            released = true;
            Syscalls.libc().close(fd);
        }
    }
}
