package io.dockgate.engine.sys;

import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;

/** The few libc calls Java lacks, bound with jnr-ffi. Use through {@link Syscalls}, which checks errno. */
public interface LibC {
    @SaveError
    int mknod(String path, int mode, long dev);

    @SaveError
    int chmod(String path, int mode);

    @SaveError
    int lchown(String path, int owner, int group);

    @SaveError
    int lsetxattr(String path, String name, byte[] value, long size, int flags);

    @SaveError
    long lgetxattr(String path, String name, byte[] value, long size);

    @SaveError
    int mount(String source, String target, String fstype, long flags, String data);

    @SaveError
    int umount2(String target, int flags);

    @SaveError
    int kill(int pid, int signal);

    @SaveError
    int open(String path, int flags);

    @SaveError
    int close(int fd);

    @SaveError
    int ioctl(int fd, long request, @In @Out int[] argument);

    @SaveError
    int syncfs(int fd);

    @SaveError
    int socket(int domain, int type, int protocol);

    @SaveError
    int connect(int fd, @In byte[] address, int length);

    @SaveError
    long recv(int fd, @Out byte[] buffer, long length, int flags);

    @SaveError
    long send(int fd, @In byte[] buffer, long length, int flags);

    @SaveError
    int shutdown(int fd, int how);

    @SaveError
    long write(int fd, @In byte[] buffer, long length);

    @SaveError
    int epoll_create1(int flags);

    @SaveError
    int epoll_ctl(int epfd, int op, int fd, @In byte[] event);

    @SaveError
    int epoll_wait(int epfd, @Out byte[] events, int maxEvents, int timeout);

    @SaveError
    int unshare(int flags);

    @SaveError
    int setns(int fd, int nstype);

    @SaveError
    int bind(int fd, @In byte[] address, int length);

    String strerror(int errnum);
}
