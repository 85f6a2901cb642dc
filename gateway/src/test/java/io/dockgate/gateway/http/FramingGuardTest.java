package io.dockgate.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The framing guard on its own: what it passes on byte for byte, what it refuses, and stalls. */
class FramingGuardTest {
    private final List<String> refusals = new ArrayList<>();

    private EmbeddedChannel channel() {
        return new EmbeddedChannel(new FramingGuard(target -> target.endsWith("/attach"), (line, reason) -> refusals.add(reason), 1000));
    }

    private static void send(EmbeddedChannel ch, String text) {
        ch.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    }

    private static String passed(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readInbound()) != null) {
            sb.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return sb.toString();
    }

    private static String answered(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            sb.append(b.toString(StandardCharsets.UTF_8));
            b.release();
        }
        return sb.toString();
    }

    @Test
    void pipelinedRequestsWithLengthAndChunkedBodiesPassUnchanged() {
        EmbeddedChannel ch = channel();
        String stream = "POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 13\r\n\r\n{\"Image\":\"a\"}"
                + "POST /containers/create HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\n{\"Ima\r\n8\r\nge\":\"b\"}\r\n0\r\nX-Trailer: t\r\n\r\n"
                + "GET /_ping HTTP/1.1\r\n\r\n";
        for (int i = 0; i < stream.length(); i += 7) { // in small pieces, as a slow network delivers them
            send(ch, stream.substring(i, Math.min(stream.length(), i + 7)));
        }
        assertThat(passed(ch)).isEqualTo(stream);
        assertThat(refusals).isEmpty();
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void aBadHeadAfterGoodRequestsIsRefusedAndNothingOfItPasses() {
        EmbeddedChannel ch = channel();
        String good = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
        send(ch, good + "POST /x HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}");
        assertThat(passed(ch)).isEqualTo(good);
        assertThat(answered(ch)).startsWith("HTTP/1.1 400 Bad Request\r\n").contains("Connection: close",
                "{\"message\":\"Content-Length together with Transfer-Encoding\"}");
        assertThat(refusals).containsExactly("Content-Length together with Transfer-Encoding");
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void aBodyThatLooksLikeAHeadIsStillABody() {
        EmbeddedChannel ch = channel();
        String body = "GET /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"; // smuggling attempt inside a body
        String request = "POST /x HTTP/1.1\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
        send(ch, request);
        assertThat(passed(ch)).isEqualTo(request);
        assertThat(refusals).isEmpty();
    }

    @Test
    void afterAHijackingHeadTheStreamIsRaw() {
        EmbeddedChannel ch = channel();
        String stream = "POST /v1.45/containers/x/attach HTTP/1.1\r\nUpgrade: tcp\r\n\r\nraw stdin\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
        send(ch, stream);
        assertThat(passed(ch)).isEqualTo(stream);
        assertThat(refusals).isEmpty();
    }

    @Test
    void aStalledRequestIsRefusedButAnIdleConnectionIsNot() {
        EmbeddedChannel idle = channel();
        send(idle, "GET /_ping HTTP/1.1\r\n\r\n");
        passed(idle);
        idle.advanceTimeBy(5, TimeUnit.SECONDS);
        idle.runScheduledPendingTasks();
        assertThat(idle.isOpen()).as("idle between requests").isTrue();

        EmbeddedChannel stalledHead = channel();
        send(stalledHead, "GET /_ping HTTP/1.1\r\nHost: d\r\n");
        stalledHead.advanceTimeBy(5, TimeUnit.SECONDS);
        stalledHead.runScheduledPendingTasks();
        assertThat(answered(stalledHead)).startsWith("HTTP/1.1 408 Request Timeout");
        assertThat(stalledHead.isOpen()).isFalse();

        EmbeddedChannel stalledBody = channel();
        send(stalledBody, "POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n{\"a\"");
        stalledBody.advanceTimeBy(5, TimeUnit.SECONDS);
        stalledBody.runScheduledPendingTasks();
        assertThat(stalledBody.isOpen()).isFalse();
        assertThat(refusals).hasSize(2).allSatisfy(r -> assertThat(r).startsWith("the request stalled"));
    }
}
