package io.dockgate.gateway.stream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;

/**
 * In front of the SSL handler on a hijacked TLS 1.2 connection: the client's alert record (type 21, the
 * close_notify the docker CLI sends when it has no stdin) is dropped and turned into an end of input, so
 * the TLS engine does not answer it by closing the connection while the container's output still flows.
 * Other records pass unchanged. (TLS 1.3 hides record types, and the JDK engine already keeps writing.)
 */
final class Tls12AlertFilter extends ChannelInboundHandlerAdapter {
    private static final int HEADER = 5;
    private static final int ALERT = 21;
    private ByteBuf pending = Unpooled.EMPTY_BUFFER;
    private boolean ended;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in) || ended) {
            if (msg instanceof ByteBuf b) {
                b.release();
                return;
            }
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf data = pending.isReadable() ? Unpooled.wrappedBuffer(pending, in) : in;
        pending = Unpooled.EMPTY_BUFFER;
        ByteBuf pass = ctx.alloc().buffer();
        while (data.readableBytes() >= HEADER) {
            int type = data.getUnsignedByte(data.readerIndex());
            int length = data.getUnsignedShort(data.readerIndex() + 3);
            if (data.readableBytes() < HEADER + length) {
                break;
            }
            if (type == ALERT) {
                data.skipBytes(HEADER + length);
                ended = true;
                break;
            }
            pass.writeBytes(data, HEADER + length);
        }
        if (!ended && data.isReadable()) {
            pending = data.readRetainedSlice(data.readableBytes());
        }
        data.release();
        if (pass.isReadable()) {
            ctx.fireChannelRead(pass);
        } else {
            pass.release();
        }
        if (ended) {
            ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (pending.refCnt() > 0 && pending != Unpooled.EMPTY_BUFFER) {
            pending.release();
        }
    }

    /** Installs the filter when the connection negotiated TLS 1.2. */
    static void installIfTls12(io.netty.channel.Channel channel) {
        io.netty.handler.ssl.SslHandler ssl = channel.pipeline().get(io.netty.handler.ssl.SslHandler.class);
        if (ssl != null && "TLSv1.2".equals(ssl.engine().getSession().getProtocol())) {
            String name = channel.pipeline().context(ssl).name();
            channel.pipeline().addBefore(name, "dockgate-tls12-alert-filter", new Tls12AlertFilter());
        }
    }
}
