package io.dockgate.gateway.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pure rules of forwarding: encoding, the announced version, the owner's filters, chunked bodies. */
class ForwardingRulesTest {
    @Test
    void componentsArePercentEncodedOnce() {
        assertThat(Forwarder.encode("a b/c?d&e=f%")).isEqualTo("a%20b%2Fc%3Fd%26e%3Df%25");
        assertThat(Forwarder.encode("busybox:latest")).isEqualTo("busybox%3Alatest");
    }

    @Test
    void theAnnouncedVersionIsTheLowerOfTheTwo() {
        assertThat(Forwarder.lowerVersion("1.41")).isEqualTo("1.41");
        assertThat(Forwarder.lowerVersion("1.51")).isEqualTo("1.50");
        assertThat(Forwarder.lowerVersion("garbage")).isEqualTo("1.50");
    }

    @Test
    void theOwnersLabelIsAddedToEitherFormOfFilters() {
        assertThat(Tenancy.withOwnerFilter(null, "tls:alice")).isEqualTo("{\"label\":{\"io.dockgate.upstream.owner=tls:alice\":true}}");
        assertThat(Tenancy.withOwnerFilter(List.of("{\"label\":[\"a=b\"],\"status\":[\"running\"]}"), "tls:alice"))
                .isEqualTo("{\"label\":[\"a=b\",\"io.dockgate.upstream.owner=tls:alice\"],\"status\":[\"running\"]}");
        assertThat(Tenancy.withOwnerFilter(List.of("{\"LABEL\":{\"a=b\":true}}"), "unix:0"))
                .isEqualTo("{\"LABEL\":{\"a=b\":true,\"io.dockgate.upstream.owner=unix:0\":true}}");
        assertThatThrownBy(() -> Tenancy.withOwnerFilter(List.of("{\"label\":"), "x")).hasMessageContaining("invalid filters");
    }

    @Test
    void ownerFiltersBecomeLabelFiltersOneOwnerAtATime() {
        assertThat(Tenancy.ownerAsLabel(List.of("{\"owner\":[\"tls:bob\"],\"status\":[\"exited\"]}")))
                .isEqualTo("{\"status\":[\"exited\"],\"label\":{\"io.dockgate.upstream.owner=tls:bob\":true}}");
        assertThat(Tenancy.ownerAsLabel(List.of("{\"status\":[\"exited\"]}"))).isEqualTo("{\"status\":[\"exited\"]}");
        assertThatThrownBy(() -> Tenancy.ownerAsLabel(List.of("{\"owner\":[\"a\",\"b\"]}"))).hasMessageContaining("one owner at a time");
    }

    @Test
    void chunkedBodiesAreDecodedOnlyWhenComplete() {
        assertThat(HijackRelay.dechunk(Buffer.buffer("5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n")).toString()).isEqualTo("hello world");
        assertThat(HijackRelay.dechunk(Buffer.buffer("5\r\nhel"))).isNull();
        assertThat(HijackRelay.dechunk(Buffer.buffer("5\r\nhello\r\n0\r\n"))).isNull();
        assertThatThrownBy(() -> HijackRelay.dechunk(Buffer.buffer("zz\r\n"))).hasMessageContaining("invalid chunk");
    }
}
