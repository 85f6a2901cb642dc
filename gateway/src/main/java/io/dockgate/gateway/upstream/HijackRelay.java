package io.dockgate.gateway.upstream;

import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.stream.Hijack;
import io.netty.channel.Channel;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A hijacked stream (attach, exec start) through to the upstream: the judged request is written on a
 * raw connection of its own; when the upstream answers {@code 101} the client's connection is upgraded
 * the same way and bytes flow both ways with back-pressure; the client's half-close (TCP FIN, or TLS
 * close_notify when it has no stdin) becomes a half-close towards the upstream, so the container's stdin
 * ends while its output goes on; the upstream's end ends the client's connection. Any other answer (an
 * error, a detached exec) goes back as an ordinary response.
 */
final class HijackRelay {
    private static final int MAX_HEAD = 64 << 10;
    private static final int MAX_PLAIN_BODY = 4 << 20;

    private HijackRelay() {
    }

    static Future<Void> relay(Upstream upstream, ApiRequest request, String uri, Buffer body) {
        return upstream.connectRaw().compose(up -> {
            StringBuilder head = new StringBuilder();
            head.append(request.method().name()).append(' ').append(uri).append(" HTTP/1.1\r\n")
                    .append("Host: ").append(upstream.hostHeader()).append("\r\n")
                    .append(request.http().getHeader("Upgrade") != null ? "Connection: Upgrade\r\nUpgrade: tcp\r\n" : "");
            String agent = request.http().getHeader("User-Agent");
            if (agent != null && agent.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
                head.append("User-Agent: ").append(agent).append("\r\n");
            }
            if (body.length() > 0) {
                head.append("Content-Type: application/json\r\n");
            }
            head.append("Content-Length: ").append(body.length()).append("\r\n\r\n");
            Promise<Void> done = Promise.promise();
            ResponseReader reader = new ResponseReader(up, request, done);
            up.handler(reader::feed);
            up.exceptionHandler(e -> reader.failed(e));
            up.endHandler(v -> reader.upstreamEnded());
            up.closeHandler(v -> reader.upstreamEnded());
            // dockerd ends a stream by half-closing (CloseWrite): a FIN closes this unhalf-closable connection, but a
            // TLS close_notify only shows as an event
            ((NetSocketInternal) up).eventHandler(event -> {
                if (event instanceof io.netty.handler.ssl.SslCloseCompletionEvent
                        || event instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
                    reader.upstreamEnded();
                }
            });
            up.write(Buffer.buffer(head.toString()).appendBuffer(body));
            return done.future();
        });
    }

    private static Channel channel(NetSocket socket) {
        return ((NetSocketInternal) socket).channelHandlerContext().channel();
    }

    /** Ends the upstream connection's output only: FIN on a plain socket, close_notify under TLS. */
    private static void halfClose(NetSocket socket) {
        Channel ch = channel(socket);
        ch.eventLoop().execute(() -> {
            SslHandler ssl = ch.pipeline().get(SslHandler.class);
            if (ssl != null) {
                ssl.closeOutbound();
            } else if (ch instanceof DuplexChannel duplex) {
                duplex.shutdownOutput();
            }
        });
    }

    /** Reads the upstream's answer head, then either upgrades and bridges or answers plainly. */
    private static final class ResponseReader {
        private final NetSocket up;
        private final ApiRequest request;
        private final Promise<Void> done;
        private Buffer pending = Buffer.buffer();
        private int status = -1;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private NetSocket client;
        private boolean bridging;

        ResponseReader(NetSocket up, ApiRequest request, Promise<Void> done) {
            this.up = up;
            this.request = request;
            this.done = done;
        }

        void feed(Buffer data) {
            if (bridging) {
                forwardToClient(data);
                return;
            }
            if (streaming) {
                forwardToResponse(data);
                return;
            }
            pending.appendBuffer(data);
            if (status < 0) {
                int end = indexOf(pending, "\r\n\r\n");
                if (end < 0) {
                    if (pending.length() > MAX_HEAD) {
                        fail(new EngineException(ErrorKind.BAD_GATEWAY, "the upstream's answer head is too large"));
                    }
                    return;
                }
                parseHead(pending.getString(0, end, "ISO-8859-1"));
                pending = pending.getBuffer(end + 4, pending.length());
                if (status == 101) {
                    upgrade();
                    return;
                }
            }
            if (streaming) {
                forwardToResponse(pending);
                pending = Buffer.buffer();
            } else if (status != 101) {
                if (headers.get("content-length") == null && !"chunked".equalsIgnoreCase(headers.get("transfer-encoding"))
                        && status == 200) {
                    startStreaming(); // a client that did not ask to upgrade: the stream as a response body, until the end
                    return;
                }
                plainBodyProgress(false);
            }
        }

        private boolean streaming;

        private void startStreaming() {
            streaming = true;
            HttpServerResponse response = request.response();
            response.setStatusCode(status);
            io.vertx.core.MultiMap m = io.vertx.core.MultiMap.caseInsensitiveMultiMap();
            headers.forEach(m::add);
            Forwarder.copyResponseHeaders(m, response);
            response.setChunked(true);
            response.writeHead();
            response.closeHandler(v -> up.close());
            forwardToResponse(pending);
            pending = Buffer.buffer();
        }

        private void forwardToResponse(Buffer data) {
            if (data.length() == 0) {
                return;
            }
            HttpServerResponse response = request.response();
            response.write(data);
            if (response.writeQueueFull()) {
                up.pause();
                response.drainHandler(v -> up.resume());
            }
        }

        private void parseHead(String head) {
            String[] lines = head.split("\r\n");
            String[] statusLine = lines[0].split(" ", 3);
            try {
                status = Integer.parseInt(statusLine[1]);
            } catch (RuntimeException e) {
                fail(new EngineException(ErrorKind.BAD_GATEWAY, "the upstream answered with an invalid status line"));
                return;
            }
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
                }
            }
        }

        private void upgrade() {
            up.pause();
            String type = headers.getOrDefault("content-type", "application/vnd.docker.raw-stream");
            Hijack.upgrade(request.http(), type).onComplete(ar -> {
                if (ar.failed()) {
                    up.close();
                    done.tryFail(ar.cause());
                    return;
                }
                request.hijacked();
                Hijack.Upgraded upgraded = ar.result();
                client = upgraded.socket();
                bridging = true;
                if (pending.length() > 0) {
                    forwardToClient(pending);
                    pending = Buffer.buffer();
                }
                client.handler(data -> {
                    up.write(data);
                    if (up.writeQueueFull()) {
                        client.pause();
                        up.drainHandler(v -> client.resume());
                    }
                });
                upgraded.inputEnded().onComplete(v -> halfClose(up));
                upgraded.closed().onComplete(v -> {
                    up.close();
                    done.tryComplete();
                });
                client.resume();
                up.resume();
            });
        }

        private void forwardToClient(Buffer data) {
            client.write(data);
            if (client.writeQueueFull()) {
                up.pause();
                client.drainHandler(v -> up.resume());
            }
        }

        void upstreamEnded() {
            if (streaming) {
                if (!request.response().ended()) {
                    request.response().end();
                }
                up.close();
                done.tryComplete();
                return;
            }
            if (bridging) {
                client.end(); // flushes what is queued, then closes
                up.close();
                done.tryComplete();
            } else if (status < 0) {
                fail(new EngineException(ErrorKind.BAD_GATEWAY, "the upstream closed the connection without answering"));
            } else {
                plainBodyProgress(true);
            }
        }

        void failed(Throwable e) {
            if (bridging) {
                client.close();
                done.tryComplete();
            } else {
                fail(new EngineException(ErrorKind.BAD_GATEWAY, "the upstream's answer broke off: " + e.getMessage()));
            }
        }

        private void fail(EngineException e) {
            up.close();
            done.tryFail(e);
        }

        /** A non-upgraded answer: answered once its body is complete (by length, chunks or the end of the connection). */
        private void plainBodyProgress(boolean ended) {
            if (done.future().isComplete()) {
                return;
            }
            if (pending.length() > MAX_PLAIN_BODY) {
                fail(new EngineException(ErrorKind.BAD_GATEWAY, "the upstream's answer is too large"));
                return;
            }
            Buffer body = null;
            String length = headers.get("content-length");
            if (status == 204 || status == 304) {
                body = Buffer.buffer();
            } else if (length != null) {
                int n = Integer.parseInt(length);
                if (pending.length() >= n) {
                    body = pending.getBuffer(0, n);
                }
            } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                body = dechunk(pending);
            } else if (ended) {
                body = pending;
            }
            if (body == null) {
                if (ended) {
                    fail(new EngineException(ErrorKind.BAD_GATEWAY, "the upstream's answer broke off"));
                }
                return;
            }
            up.close();
            HttpServerResponse response = request.response();
            response.setStatusCode(status);
            io.vertx.core.MultiMap m = io.vertx.core.MultiMap.caseInsensitiveMultiMap();
            headers.forEach(m::add);
            Forwarder.copyResponseHeaders(m, response);
            response.end(body).onComplete(ar -> done.tryComplete());
        }
    }

    /** The body of a complete chunked message, or null while chunks are missing. */
    static Buffer dechunk(Buffer in) {
        Buffer out = Buffer.buffer();
        int pos = 0;
        while (true) {
            int eol = indexOf(in, "\r\n", pos);
            if (eol < 0) {
                return null;
            }
            String size = in.getString(pos, eol, "ISO-8859-1");
            int semi = size.indexOf(';');
            int n;
            try {
                n = Integer.parseInt((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
            } catch (NumberFormatException e) {
                throw new EngineException(ErrorKind.BAD_GATEWAY, "the upstream sent an invalid chunk");
            }
            pos = eol + 2;
            if (n == 0) {
                return indexOf(in, "\r\n", pos) >= 0 ? out : null;
            }
            if (in.length() < pos + n + 2) {
                return null;
            }
            out.appendBuffer(in.getBuffer(pos, pos + n));
            pos += n + 2;
        }
    }

    private static int indexOf(Buffer b, String s) {
        return indexOf(b, s, 0);
    }

    private static int indexOf(Buffer b, String s, int from) {
        byte[] needle = s.getBytes(StandardCharsets.ISO_8859_1);
        outer:
        for (int i = from; i <= b.length() - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (b.getByte(i + j) != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
