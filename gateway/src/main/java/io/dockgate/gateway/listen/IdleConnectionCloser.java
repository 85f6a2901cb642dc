package io.dockgate.gateway.listen;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a connection that neither read nor wrote for the idle timeout while no request was in progress
 * on it: a keep-alive connection the client parked, or one that never sent a whole request. A request
 * in progress (a silent {@code docker events}, a {@code wait}, {@code logs --follow}) and a hijacked
 * stream are left alone. The idle events stop here: Vert.x would close on any of them.
 */
final class IdleConnectionCloser extends IdleStateHandler {
    private static final Logger LOG = LoggerFactory.getLogger(IdleConnectionCloser.class);
    private final ConnectionInfo info;

    IdleConnectionCloser(ConnectionInfo info, int seconds) {
        super(0, 0, seconds, TimeUnit.SECONDS);
        this.info = info;
    }

    @Override
    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent event) {
        if (info.idle()) {
            LOG.debug("closing idle connection {} from {}", info.id(), info.remote());
            ctx.close();
        }
    }
}
