package io.dockgate.gateway.listen;

import io.dockgate.config.ListenAddress;
import io.dockgate.gateway.auth.PeerCredentials;
import io.dockgate.gateway.auth.Principal;
import io.dockgate.gateway.auth.UnixAccounts;
import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local Unix socket listener on the epoll transport (half-close and peer credentials need it).
 * The socket file is mode 0660 owned by root and the configured group; when that group does not exist
 * it is 0600 (root only) with a warning, as dockerd does. Each connection's principal comes from
 * SO_PEERCRED, taken when the peer connected (so PID reuse later cannot change it).
 */
public final class UnixListener implements Listener {
    private static final Logger LOG = LoggerFactory.getLogger(UnixListener.class);

    private final SharedServers server;
    private final Path path;

    private UnixListener(SharedServers server, Path path) {
        this.server = server;
        this.path = path;
    }

    public static Future<Listener> start(Vertx vertx, ListenAddress.Unix at, String group, UnixAccounts accounts,
                                         ConnectionRegistry registry, Handler<HttpServerRequest> handler) {
        if (!vertx.isNativeTransportEnabled()) {
            return Future.failedFuture(new IllegalStateException("cannot listen on " + at
                    + ": the epoll native transport is unavailable (" + vertx.unavailableNativeTransportCause() + ")"));
        }
        Path path = at.path();
        return vertx.<Void>executeBlocking(() -> {
            prepare(path);
            return null;
        }).compose(v -> {
            return SharedServers.listen(vertx, SharedServers.instances(), loop -> {
                HttpServer server = loop.createHttpServer(ServerOptionsFactory.base());
                server.connectionHandler(connection -> registry.register(connection, principalOf(loop, connection, accounts)));
                server.requestHandler(handler);
                return server;
            }, SocketAddress.domainSocketAddress(path.toString()));
        }).compose(server -> vertx.<Listener>executeBlocking(() -> {
            secure(path, group, accounts);
            LOG.info("listening on unix://{}", path);
            return new UnixListener(server, path);
        })).recover(e -> Future.failedFuture(new IllegalStateException("cannot listen on " + at + ": " + e.getMessage(), e)));
    }

    /** Creates the directory; refuses to take over a socket another process still serves; removes a stale one. */
    private static void prepare(Path path) throws IOException {
        Files.createDirectories(path.getParent());
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            java.nio.file.attribute.BasicFileAttributes attributes = Files.readAttributes(path,
                    java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isOther()) {
                throw new IOException(path + " exists and is not a socket");
            }
            try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                probe.connect(UnixDomainSocketAddress.of(path));
                throw new IOException("another daemon is listening on " + path);
            } catch (IOException e) {
                if (e.getMessage() != null && e.getMessage().startsWith("another daemon")) {
                    throw e;
                }
                Files.delete(path);
                LOG.info("removed stale socket {}", path);
            }
        }
    }

    private static void secure(Path path, String group, UnixAccounts accounts) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        Optional<Integer> gid = accounts.groupId(group);
        if (gid.isEmpty()) {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            LOG.warn("group \"{}\" does not exist: {} is mode 0600 (root only); create the group or pass --group", group, path);
            return;
        }
        GroupPrincipal principal = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
        view.setGroup(principal);
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
    }

    private static Future<Principal> principalOf(Vertx vertx, HttpConnection connection, UnixAccounts accounts) {
        Channel channel = ConnectionRegistry.channelOf(connection);
        if (!(channel instanceof EpollDomainSocketChannel domain)) {
            return Future.failedFuture("not an epoll domain socket: " + channel.getClass().getName());
        }
        PeerCredentials peer;
        try {
            io.netty.channel.unix.PeerCredentials credentials = domain.peerCredentials();
            peer = new PeerCredentials(credentials.pid(), credentials.uid(), credentials.gids()[0]);
        } catch (IOException | RuntimeException e) {
            return Future.failedFuture(new IllegalStateException("SO_PEERCRED failed: " + e.getMessage(), e));
        }
        return vertx.executeBlocking(() -> accounts.principal(peer), false);
    }

    @Override
    public String address() {
        return "unix://" + path;
    }

    @Override
    public Future<Void> close() {
        return server.close().eventually(() -> {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                LOG.warn("cannot remove {}: {}", path, e.getMessage());
            }
            return Future.succeededFuture();
        });
    }
}
