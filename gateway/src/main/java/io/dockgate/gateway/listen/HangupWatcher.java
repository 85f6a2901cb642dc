package io.dockgate.gateway.listen;

import io.dockgate.engine.sys.Epoll;
import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a hijacked Unix-socket connection as soon as its client is gone. Half-closure is allowed on a
 * hijacked connection (the docker CLI half-closes when it has no stdin), so Netty stops watching its
 * input after the client's FIN; when the client then dies (or had died), the kernel reports EPOLLHUP on
 * the socket, which Netty's level-triggered loop neither handles nor can mask: it would spin a core until
 * the connection is closed. This watcher keeps such sockets in an epoll set of its own, edge-triggered
 * (one report each), on one thread that sleeps in {@code epoll_wait}, and closes the channel on its
 * event loop when the hang-up comes. TCP connections need none of this: a dead TCP peer is found by the
 * next write (RST), and a FIN alone raises no hang-up.
 */
public final class HangupWatcher {
    private static final Logger LOG = LoggerFactory.getLogger(HangupWatcher.class);
    private static volatile HangupWatcher instance;

    private final Epoll epoll;
    private final Map<Long, Channel> watched = new ConcurrentHashMap<>();
    private final AtomicLong tags = new AtomicLong();

    private HangupWatcher() throws java.io.IOException {
        epoll = new Epoll();
        Thread t = new Thread(this::run, "dockgate-hangups");
        t.setDaemon(true);
        t.start();
    }

    /** Watches the channel until it closes, when it is a Unix-socket connection; others are left alone. */
    public static void watch(Channel channel) {
        if (!(channel instanceof EpollDomainSocketChannel unix)) {
            return;
        }
        try {
            watcher().add(unix);
        } catch (java.io.IOException | RuntimeException e) {
            LOG.warn("cannot watch a hijacked connection for its client's hang-up: {}", e.toString());
        }
    }

    private static HangupWatcher watcher() throws java.io.IOException {
        HangupWatcher w = instance;
        if (w == null) {
            synchronized (HangupWatcher.class) {
                if (instance == null) {
                    instance = new HangupWatcher();
                }
                w = instance;
            }
        }
        return w;
    }

    private void add(EpollDomainSocketChannel channel) throws java.io.IOException {
        long tag = tags.incrementAndGet(); // a tag, not the fd number: a closed fd's number is soon reused
        int fd = channel.fd().intValue();
        watched.put(tag, channel);
        channel.closeFuture().addListener(f -> {
            if (watched.remove(tag) != null) {
                epoll.remove(fd); // usually gone already: closing the fd removed it from the set
            }
        });
        if (!channel.isOpen()) {
            watched.remove(tag);
            return;
        }
        epoll.add(fd, Epoll.EPOLLET, tag); // no events asked for: only what is always reported, hang-up and error
    }

    private void run() {
        while (true) {
            try {
                for (long tag : epoll.await(64, -1)) {
                    Channel channel = watched.get(tag);
                    if (channel != null) {
                        LOG.debug("client of {} hung up: closing", channel);
                        channel.close();
                    }
                }
            } catch (java.io.IOException | RuntimeException e) {
                LOG.error("hang-up watcher: {}", e.toString());
                return;
            }
        }
    }
}
