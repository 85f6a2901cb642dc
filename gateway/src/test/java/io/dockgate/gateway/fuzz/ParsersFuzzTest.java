package io.dockgate.gateway.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.EngineException;
import io.dockgate.gateway.api.OperationTable;
import io.dockgate.gateway.http.FramingGuard;
import io.dockgate.gateway.http.Operation;
import io.dockgate.gateway.request.CanonicalPath;
import io.dockgate.gateway.request.DockerJson;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The gateway's parsers of untrusted bytes under a coverage-guided fuzzer (Jazzer): the framing guard,
 * the canonical path and the body parser with every operation's translation into its typed model. In
 * an ordinary build the seeds and kept findings under {@code src/test/resources/.../ParsersFuzzTestInputs}
 * run as regression tests; {@code .ci/fuzz} fuzzes each target for a bounded time.
 */
class ParsersFuzzTest {

    private record Framed(byte[] passed, List<String> refusals, boolean open) {
    }

    private static Framed frame(byte[] bytes, int piece) {
        List<String> refusals = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel(new FramingGuard(t -> t.endsWith("/attach"), (line, reason) -> refusals.add(reason)));
        for (int i = 0; i < bytes.length && ch.isOpen(); i += piece) {
            ch.writeInbound(Unpooled.copiedBuffer(bytes, i, Math.min(piece, bytes.length - i)));
        }
        ch.checkException(); // nothing the guard threw
        ByteArrayOutputStream passed = new ByteArrayOutputStream();
        ByteBuf b;
        while ((b = ch.readInbound()) != null) {
            byte[] chunk = new byte[b.readableBytes()];
            b.readBytes(chunk);
            passed.writeBytes(chunk);
            b.release();
        }
        for (Object o; (o = ch.readOutbound()) != null; ) {
            io.netty.util.ReferenceCountUtil.release(o);
        }
        boolean open = ch.isOpen();
        ch.finishAndReleaseAll();
        return new Framed(passed.toByteArray(), refusals, open);
    }

    /**
     * The guard passes bytes on unchanged or refuses; what it passes is a prefix of what came, and does
     * not depend on how the network cut the bytes into pieces.
     */
    @FuzzTest(maxDuration = "60s")
    void framingGuard(FuzzedDataProvider data) {
        int piece = data.consumeInt(1, 97);
        byte[] bytes = data.consumeRemainingAsBytes();
        Framed whole = frame(bytes, Math.max(1, bytes.length));
        Framed pieces = frame(bytes, piece);
        assertThat(Arrays.copyOf(bytes, whole.passed().length)).as("passed unchanged").isEqualTo(whole.passed());
        assertThat(pieces.passed()).as("in pieces of " + piece).isEqualTo(whole.passed());
        assertThat(pieces.refusals().isEmpty()).isEqualTo(whole.refusals().isEmpty());
        assertThat(pieces.open()).isEqualTo(whole.open());
    }

    /** A path is refused with Docker's 400, or decoded into segments that are neither dot segments nor hold controls. */
    @FuzzTest(maxDuration = "30s")
    void canonicalPath(FuzzedDataProvider data) {
        String raw = data.consumeRemainingAsString();
        CanonicalPath path;
        try {
            path = CanonicalPath.parse(raw);
        } catch (EngineException e) {
            assertThat(e.kind()).isEqualTo(io.dockgate.engine.ErrorKind.INVALID_ARGUMENT);
            return;
        }
        for (CanonicalPath.Segment s : path.segments()) {
            assertThat(s.value()).isNotEmpty().isNotEqualTo(".").isNotEqualTo("..");
            assertThat(s.value().chars().noneMatch(c -> c < 0x20 || c == 0x7f)).as(s.value()).isTrue();
            if (s.value().contains("/")) {
                assertThat(s.encodedSlash()).as("a slash inside a segment was encoded").isTrue();
            }
        }
    }

    /**
     * A body is refused with a 400 by the strict parser or the operation's translation, or becomes a model;
     * translating the same bytes again gives an equal model (nothing depends on anything but the bytes).
     */
    @FuzzTest(maxDuration = "60s")
    void bodies(FuzzedDataProvider data) {
        List<Operation> withBodies = OperationTable.all().values().stream().filter(o -> o.body() == Operation.Body.JSON).toList();
        Operation op = withBodies.get(data.consumeInt(0, withBodies.size() - 1));
        byte[] bytes = data.consumeRemainingAsBytes();
        Object model;
        try {
            JsonNode json = DockerJson.parse(bytes);
            model = op.model().apply(json);
        } catch (EngineException e) {
            assertThat(e.kind()).as(op + ": " + e.getMessage()).isIn(io.dockgate.engine.ErrorKind.INVALID_ARGUMENT,
                    io.dockgate.engine.ErrorKind.NOT_FOUND);
            return;
        }
        assertThat(model).as(op.name()).isNotNull();
        assertThat(op.model().apply(DockerJson.parse(bytes))).as(op.name()).isEqualTo(model);
    }
}
