package io.dockgate.gateway.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

/**
 * Checks the framing of every request on a connection before the HTTP decoder sees it, because the
 * decoder forgives what a gateway must not: a request with both Content-Length and Transfer-Encoding
 * (the decoder drops Content-Length), a duplicate Content-Length (a bare 400 from the decoder), a
 * Transfer-Encoding other than exactly {@code chunked}, an Expect other than {@code 100-continue},
 * folded header lines or a space before a header's colon. Such a request is answered with Docker's
 * JSON error and the connection closed; nothing of it reaches the decoder.
 *
 * <p>A request that stops arriving half-way — a head without its end, a body short of its length — for
 * longer than the read timeout is answered 408 and its connection closed, so that slow or stalled
 * clients cannot hold connections (and stream slots) forever. Idle keep-alive connections between
 * requests, raw hijacked streams, and reads the daemon itself paused (back-pressure) do not count.
 *
 * <p>It follows the byte stream as the decoder does (request head, then a Content-Length body or chunks)
 * to find each next request head. After the head of a request that may hijack the connection (attach,
 * exec start: decided by the same catalog that routes), the rest of the connection is a raw stream and
 * is passed through; the pipeline closes such a connection if it was not upgraded after all.
 */
public final class FramingGuard extends ChannelInboundHandlerAdapter {
    public static final String NAME = "dockgateFraming";
    private static final int MAX_HEAD = 128 * 1024; // the decoder's own limits: 64 KiB request line, 64 KiB headers

    private enum State { HEAD, BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_CRLF, TRAILERS, PASSTHROUGH, REFUSED }

    /** How long a request may stall half-way before it is refused. */
    public static final long DEFAULT_READ_TIMEOUT_MS = 60_000;

    private final Predicate<String> hijacks;
    private final BiConsumer<String, String> onRefused;
    private final long readTimeoutNanos;
    private long lastProgress;
    private io.netty.util.concurrent.Ticker ticker = io.netty.util.concurrent.Ticker.systemTicker();
    private io.netty.util.concurrent.ScheduledFuture<?> timer;
    private State state = State.HEAD;
    private ByteBuf head;
    private long remaining;
    private final StringBuilder line = new StringBuilder();

    /**
     * @param hijacks   whether a request target (raw, with query) names a route that may hijack the connection
     * @param onRefused told the request line and the reason of each refusal (the audit)
     */
    public FramingGuard(Predicate<String> hijacks, BiConsumer<String, String> onRefused) {
        this(hijacks, onRefused, DEFAULT_READ_TIMEOUT_MS);
    }

    public FramingGuard(Predicate<String> hijacks, BiConsumer<String, String> onRefused, long readTimeoutMs) {
        this.hijacks = hijacks;
        this.onRefused = onRefused;
        this.readTimeoutNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(readTimeoutMs);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ticker = ctx.executor().ticker();
        lastProgress = ticker.nanoTime();
        long period = Math.max(1, readTimeoutNanos / 4);
        timer = ctx.executor().scheduleAtFixedRate(() -> checkStall(ctx), period, period, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** In the middle of a request (not between requests, not a raw stream)? */
    private boolean midRequest() {
        return switch (state) {
            case HEAD -> head != null && head.isReadable();
            case BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_CRLF, TRAILERS -> true;
            default -> false;
        };
    }

    private void checkStall(ChannelHandlerContext ctx) {
        long now = ticker.nanoTime();
        if (!midRequest() || !ctx.channel().config().isAutoRead()) {
            lastProgress = now; // idle between requests, or paused by the daemon itself: not the client's stall
            return;
        }
        if (now - lastProgress > readTimeoutNanos) {
            if (head != null) {
                head.release();
                head = null;
            }
            refuse(ctx, "", 408, "the request stalled: nothing received for "
                    + java.util.concurrent.TimeUnit.NANOSECONDS.toSeconds(readTimeoutNanos) + " s");
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        lastProgress = ticker.nanoTime();
        if (!(msg instanceof ByteBuf in) || state == State.PASSTHROUGH) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            while (in.isReadable() && state != State.REFUSED) {
                if (state == State.PASSTHROUGH) {
                    ctx.fireChannelRead(in.retainedSlice());
                    in.skipBytes(in.readableBytes());
                    return;
                }
                switch (state) {
                    case HEAD -> readHead(ctx, in);
                    case BODY -> {
                        int n = (int) Math.min(remaining, in.readableBytes());
                        ctx.fireChannelRead(in.readRetainedSlice(n));
                        remaining -= n;
                        if (remaining == 0) {
                            state = State.HEAD;
                        }
                    }
                    case CHUNK_DATA -> {
                        int n = (int) Math.min(remaining, in.readableBytes());
                        ctx.fireChannelRead(in.readRetainedSlice(n));
                        remaining -= n;
                        if (remaining == 0) {
                            state = State.CHUNK_CRLF;
                            line.setLength(0);
                        }
                    }
                    case CHUNK_SIZE, CHUNK_CRLF, TRAILERS -> readChunkLine(ctx, in);
                    default -> in.skipBytes(in.readableBytes());
                }
            }
        } finally {
            in.release();
        }
    }

    private void readHead(ChannelHandlerContext ctx, ByteBuf in) {
        if (head == null) {
            head = ctx.alloc().buffer(256);
        }
        while (in.isReadable()) {
            int lf = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
            int n = (lf < 0 ? in.writerIndex() : lf + 1) - in.readerIndex();
            if (head.readableBytes() + n > MAX_HEAD) {
                head.release();
                head = null;
                refuse(ctx, "", 431, "request header fields too large");
                return;
            }
            head.writeBytes(in, n);
            if (lf >= 0 && endsHead(head)) {
                ByteBuf complete = head;
                head = null;
                checkHead(ctx, complete);
                return;
            }
        }
    }

    private static boolean endsHead(ByteBuf b) {
        int n = b.writerIndex();
        if (n >= 2 && b.getByte(n - 2) == '\n') {
            return true;
        }
        return n >= 3 && b.getByte(n - 2) == '\r' && b.getByte(n - 3) == '\n';
    }

    private void checkHead(ChannelHandlerContext ctx, ByteBuf complete) {
        List<String> lines = lines(complete.toString(StandardCharsets.ISO_8859_1));
        int first = 0;
        while (first < lines.size() && lines.get(first).isEmpty()) {
            first++; // empty lines before a request line are tolerated (RFC 9112 2.2)
        }
        if (first >= lines.size() - 1) {
            ctx.fireChannelRead(complete);
            return;
        }
        String requestLine = lines.get(first);
        int sp1 = requestLine.indexOf(' ');
        int sp2 = sp1 < 0 ? -1 : requestLine.indexOf(' ', sp1 + 1);
        String target = sp1 < 0 ? "" : sp2 < 0 ? requestLine.substring(sp1 + 1) : requestLine.substring(sp1 + 1, sp2);
        boolean post = requestLine.startsWith("POST ");
        int contentLengths = 0;
        int transferEncodings = 0;
        String contentLength = null;
        String transferEncoding = null;
        String reason = null;
        int status = 400;
        if (!requestLine.endsWith(" HTTP/1.1") && !requestLine.endsWith(" HTTP/1.0")) {
            reason = "unsupported HTTP version or malformed request line";
        }
        for (int i = first + 1; i < lines.size() && reason == null; i++) {
            String h = lines.get(i);
            if (h.isEmpty()) {
                break;
            }
            if (h.charAt(0) == ' ' || h.charAt(0) == '\t') {
                reason = "folded header lines are not accepted";
                break;
            }
            int colon = h.indexOf(':');
            if (colon <= 0 || !token(h, colon)) {
                reason = "malformed header line";
                break;
            }
            if (named(h, colon, "content-length")) {
                contentLengths++;
                contentLength = h.substring(colon + 1).trim();
            } else if (named(h, colon, "transfer-encoding")) {
                transferEncodings++;
                transferEncoding = h.substring(colon + 1).trim();
            } else if (named(h, colon, "expect")) {
                String value = h.substring(colon + 1).trim();
                if (!value.equalsIgnoreCase("100-continue")) {
                    reason = "unsupported Expect: " + value;
                    status = 417;
                }
            }
        }
        if (reason == null) {
            if (contentLengths > 1) {
                reason = "duplicate Content-Length";
            } else if (contentLengths == 1 && transferEncodings > 0) {
                reason = "Content-Length together with Transfer-Encoding";
            } else if (transferEncodings > 1 || transferEncodings == 1 && !transferEncoding.equalsIgnoreCase("chunked")) {
                reason = "unsupported Transfer-Encoding: only chunked is accepted";
                status = 501;
            } else if (contentLengths == 1 && !digits(contentLength, 18, false)) {
                reason = "invalid Content-Length";
            }
        }
        if (reason != null) {
            complete.release();
            refuse(ctx, requestLine, status, reason);
            return;
        }
        ctx.fireChannelRead(complete);
        if (post && hijacks.test(target)) { // only POST routes hijack
            state = State.PASSTHROUGH;
            if (timer != null) {
                timer.cancel(false); // a raw stream from here on: its silences are the application's
            }
        } else if (transferEncodings == 1) {
            state = State.CHUNK_SIZE;
            line.setLength(0);
        } else if (contentLengths == 1 && Long.parseLong(contentLength) > 0) {
            remaining = Long.parseLong(contentLength);
            state = State.BODY;
        } else {
            state = State.HEAD;
        }
    }

    /** The lines of a head, split at LF with an optional CR before it. */
    private static List<String> lines(String text) {
        List<String> lines = new ArrayList<>(16);
        int start = 0;
        while (true) {
            int lf = text.indexOf('\n', start);
            if (lf < 0) {
                lines.add(text.substring(start));
                return lines;
            }
            int end = lf > start && text.charAt(lf - 1) == '\r' ? lf - 1 : lf;
            lines.add(text.substring(start, end));
            start = lf + 1;
        }
    }

    private static boolean named(String header, int colon, String name) {
        return colon == name.length() && header.regionMatches(true, 0, name, 0, colon);
    }

    /** 1 to max digits (hexadecimal ones when hex). */
    private static boolean digits(String s, int max, boolean hex) {
        if (s.isEmpty() || s.length() > max) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = c >= '0' && c <= '9' || hex && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F');
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static boolean token(String header, int end) {
        for (int i = 0; i < end; i++) {
            char c = header.charAt(i);
            if (c <= ' ' || c >= 0x7f || "()<>@,;:\\\"/[]?={}".indexOf(c) >= 0) {
                return false;
            }
        }
        return end > 0;
    }

    /** Chunk-size lines, the CRLF after chunk data and trailer lines: forwarded as they are read. */
    private void readChunkLine(ChannelHandlerContext ctx, ByteBuf in) {
        int start = in.readerIndex();
        int lf = in.indexOf(start, in.writerIndex(), (byte) '\n');
        int end = lf < 0 ? in.writerIndex() : lf + 1;
        line.append(in.toString(start, end - start, StandardCharsets.ISO_8859_1));
        ctx.fireChannelRead(in.readRetainedSlice(end - start));
        if (line.length() > 4096) {
            refuse(ctx, "", 400, "malformed chunked body");
            return;
        }
        if (lf < 0) {
            return;
        }
        String text = line.toString().replaceAll("\r?\n$", "");
        line.setLength(0);
        switch (state) {
            case CHUNK_SIZE -> {
                String size = text.contains(";") ? text.substring(0, text.indexOf(';')) : text;
                size = size.trim();
                if (!digits(size, 15, true)) {
                    refuse(ctx, "", 400, "malformed chunk size");
                    return;
                }
                remaining = Long.parseLong(size, 16);
                state = remaining == 0 ? State.TRAILERS : State.CHUNK_DATA;
            }
            case CHUNK_CRLF -> {
                if (!text.isEmpty()) {
                    refuse(ctx, "", 400, "malformed chunked body");
                    return;
                }
                state = State.CHUNK_SIZE;
            }
            case TRAILERS -> {
                if (text.isEmpty()) {
                    state = State.HEAD;
                }
            }
            default -> { }
        }
    }

    private void refuse(ChannelHandlerContext ctx, String requestLine, int status, String reason) {
        state = State.REFUSED;
        if (timer != null) {
            timer.cancel(false);
        }
        try {
            onRefused.accept(requestLine, reason);
        } catch (RuntimeException ignored) {
            // the refusal goes out whatever the audit says
        }
        String body = "{\"message\":\"" + reason.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}\n";
        String phrase = switch (status) {
            case 408 -> "Request Timeout";
            case 417 -> "Expectation Failed";
            case 431 -> "Request Header Fields Too Large";
            case 501 -> "Not Implemented";
            default -> "Bad Request";
        };
        String response = "HTTP/1.1 " + status + " " + phrase + "\r\nContent-Type: application/json\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\nConnection: close\r\n\r\n" + body;
        ctx.writeAndFlush(Unpooled.copiedBuffer(response, StandardCharsets.UTF_8)).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
        }
        if (head != null) {
            head.release();
            head = null;
        }
    }
}
