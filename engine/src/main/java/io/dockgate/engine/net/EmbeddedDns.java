package io.dockgate.engine.net;

import io.dockgate.engine.sys.NetNamespaces;
import java.io.Closeable;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The DNS server of user-defined networks, as dockerd's: 127.0.0.11:53 (UDP and TCP) inside each such
 * container's network namespace, on sockets opened there by the namespace thread and served by one
 * selector thread of the daemon. Names of the containers on the asker's networks (name, aliases, short
 * ID, hostname, {@code name.network}) are answered from the daemon's records; other names are relayed to
 * the upstream resolvers from the host's namespace (SERVFAIL at once when there are none).
 */
public final class EmbeddedDns implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedDns.class);
    public static final String ADDRESS = "127.0.0.11";
    private static final int FORWARD_TIMEOUT_MS = 2000;

    /** The names a container may resolve: addresses of the containers its networks hold under that name. */
    public interface Names {
        List<Inet4Address> lookup(String askingContainerId, String name);
    }

    private record Served(DatagramChannel udp, ServerSocketChannel tcp, List<InetSocketAddress> upstream) {
    }

    private record Origin(String containerId) {
    }

    private static final class TcpConnection {
        final String containerId;
        ByteBuffer in = ByteBuffer.allocate(2 + 65535);

        TcpConnection(String containerId) {
            this.containerId = containerId;
        }
    }

    private final Names names;
    private final List<InetSocketAddress> upstream;
    private final Selector selector;
    private final Thread thread;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Map<String, Served> served = new ConcurrentHashMap<>();
    private final ExecutorService forwarders = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "dockgate-dns-forward");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean closed;

    public EmbeddedDns(Names names, List<String> upstream) throws IOException {
        this.names = names;
        this.upstream = upstream.stream().map(a -> new InetSocketAddress(a, 53)).toList();
        this.selector = Selector.open();
        this.thread = new Thread(this::loop, "dockgate-dns");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Serves a container: sockets at 127.0.0.11:53 opened inside its namespace (nothing to do when served
     * already); other names go to its own resolvers (--dns) when it has some, else the daemon's.
     */
    public synchronized void serve(String containerId, Path netns, List<String> resolvers) throws IOException {
        List<InetSocketAddress> own = resolvers == null || resolvers.isEmpty() ? upstream
                : resolvers.stream().map(a -> new InetSocketAddress(a, 53)).toList();
        if (served.containsKey(containerId)) {
            return;
        }
        Served s = NetNamespaces.inside(netns, () -> {
            DatagramChannel udp = DatagramChannel.open();
            ServerSocketChannel tcp = ServerSocketChannel.open();
            try {
                InetSocketAddress at = new InetSocketAddress(InetAddress.getByName(ADDRESS), 53);
                udp.bind(at);
                tcp.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
                tcp.bind(at, 64);
                udp.configureBlocking(false);
                tcp.configureBlocking(false);
                return new Served(udp, tcp, own);
            } catch (IOException | RuntimeException e) {
                udp.close();
                tcp.close();
                throw e;
            }
        });
        served.put(containerId, s);
        onLoop(() -> {
            try {
                s.udp().register(selector, SelectionKey.OP_READ, new Origin(containerId));
                s.tcp().register(selector, SelectionKey.OP_ACCEPT, new Origin(containerId));
            } catch (IOException e) {
                LOG.warn("embedded DNS for {}: {}", containerId, e.toString());
            }
        });
    }

    /** Stops serving a container (its sockets close; the namespace goes with the container). */
    public void stop(String containerId) {
        Served s = served.remove(containerId);
        if (s != null) {
            onLoop(() -> {
                closeQuietly(s.udp());
                closeQuietly(s.tcp());
                for (SelectionKey k : selector.keys()) {
                    if (k.attachment() instanceof TcpConnection c && c.containerId.equals(containerId)) {
                        closeQuietly(k.channel());
                    }
                }
            });
        }
    }

    private void onLoop(Runnable task) {
        tasks.add(task);
        selector.wakeup();
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing
        }
    }

    // ------------------------------------------------------------------ the selector thread

    private void loop() {
        ByteBuffer datagram = ByteBuffer.allocate(65535);
        while (!closed) {
            try {
                selector.select();
                for (Runnable t; (t = tasks.poll()) != null; ) {
                    t.run();
                }
                var it = selector.selectedKeys().iterator();
                while (it.hasNext()) {
                    SelectionKey key = it.next();
                    it.remove();
                    if (!key.isValid()) {
                        continue;
                    }
                    try {
                        if (key.channel() instanceof DatagramChannel udp && key.isReadable()) {
                            datagram.clear();
                            SocketAddress from = udp.receive(datagram);
                            if (from != null) {
                                byte[] query = new byte[datagram.position()];
                                datagram.flip().get(query);
                                String container = ((Origin) key.attachment()).containerId();
                                handle(container, query, reply -> send(udp, reply, from));
                            }
                        } else if (key.channel() instanceof ServerSocketChannel tcp && key.isAcceptable()) {
                            SocketChannel client = tcp.accept();
                            if (client != null) {
                                client.configureBlocking(false);
                                client.register(selector, SelectionKey.OP_READ, new TcpConnection(((Origin) key.attachment()).containerId()));
                            }
                        } else if (key.channel() instanceof SocketChannel client && key.isReadable()) {
                            readTcp(key, client, (TcpConnection) key.attachment());
                        }
                    } catch (IOException | RuntimeException e) {
                        if (key.channel() instanceof SocketChannel) {
                            closeQuietly(key.channel());
                        } else {
                            LOG.debug("embedded DNS: {}", e.toString());
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    LOG.warn("embedded DNS loop: {}", e.toString());
                }
            }
        }
    }

    private static void send(DatagramChannel udp, byte[] reply, SocketAddress to) {
        try {
            udp.send(ByteBuffer.wrap(reply), to);
        } catch (IOException e) {
            LOG.debug("embedded DNS reply: {}", e.toString());
        }
    }

    /** DNS over TCP: messages framed by a two-byte length; answered in order, on the same connection. */
    private void readTcp(SelectionKey key, SocketChannel client, TcpConnection c) throws IOException {
        if (client.read(c.in) < 0) {
            client.close();
            return;
        }
        while (c.in.position() >= 2) {
            int length = ((c.in.get(0) & 0xff) << 8) | (c.in.get(1) & 0xff);
            if (c.in.position() < 2 + length) {
                return;
            }
            byte[] query = new byte[length];
            c.in.flip();
            c.in.position(2);
            c.in.get(query);
            c.in.compact();
            handle(c.containerId, query, reply -> {
                ByteBuffer out = ByteBuffer.allocate(2 + reply.length);
                out.putShort((short) reply.length).put(reply).flip();
                try {
                    synchronized (client) {
                        long deadline = System.nanoTime() + 2_000_000_000L;
                        while (out.hasRemaining() && System.nanoTime() < deadline) {
                            if (client.write(out) == 0) {
                                Thread.onSpinWait();
                            }
                        }
                    }
                } catch (IOException e) {
                    closeQuietly(client);
                }
            });
        }
    }

    // ------------------------------------------------------------------ answers

    private void handle(String containerId, byte[] query, Consumer<byte[]> reply) {
        DnsMessages.Question q = DnsMessages.parse(query, query.length);
        if (q == null) {
            reply.accept(DnsMessages.failure(query, query.length, DnsMessages.RCODE_FORMERR));
            return;
        }
        if (q.qclass() == DnsMessages.CLASS_IN && (q.type() == DnsMessages.TYPE_A || q.type() == DnsMessages.TYPE_AAAA)) {
            List<Inet4Address> found = names.lookup(containerId, q.name());
            if (!found.isEmpty()) {
                reply.accept(DnsMessages.answer(query, q, DnsMessages.RCODE_NOERROR, q.type() == DnsMessages.TYPE_A ? found : List.of()));
                return;
            }
        }
        Served s = served.get(containerId);
        List<InetSocketAddress> servers = s == null ? upstream : s.upstream();
        if (servers.isEmpty()) {
            reply.accept(DnsMessages.answer(query, q, DnsMessages.RCODE_SERVFAIL, List.of()));
            return;
        }
        forwarders.execute(() -> reply.accept(forward(query, q, servers)));
    }

    /** The upstream resolvers' answer, byte for byte (the first that answers), or SERVFAIL. */
    private byte[] forward(byte[] query, DnsMessages.Question q, List<InetSocketAddress> servers) {
        for (InetSocketAddress server : servers) {
            try (DatagramSocket s = new DatagramSocket()) {
                s.setSoTimeout(FORWARD_TIMEOUT_MS);
                s.connect(server); // an unreachable resolver fails at once (ICMP) instead of at the timeout
                s.send(new DatagramPacket(query, query.length, server));
                byte[] buffer = new byte[65535];
                DatagramPacket answer = new DatagramPacket(buffer, buffer.length);
                long deadline = System.currentTimeMillis() + FORWARD_TIMEOUT_MS;
                while (System.currentTimeMillis() < deadline) {
                    s.receive(answer);
                    if (answer.getLength() >= 2 && (((buffer[0] & 0xff) << 8) | (buffer[1] & 0xff)) == q.id()) {
                        byte[] out = new byte[answer.getLength()];
                        System.arraycopy(buffer, 0, out, 0, out.length);
                        return out;
                    }
                }
            } catch (IOException e) {
                LOG.debug("DNS forward to {}: {}", server, e.toString());
            }
        }
        return DnsMessages.answer(query, q, DnsMessages.RCODE_SERVFAIL, List.of());
    }

    @Override
    public void close() {
        closed = true;
        selector.wakeup();
        forwarders.shutdownNow();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        served.values().forEach(s -> {
            closeQuietly(s.udp());
            closeQuietly(s.tcp());
        });
        closeQuietly(selector);
    }
}
