package io.dockgate.engine.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A piped stream ends cleanly only when its writer finished; a failed writer is the reader's error. */
class PipesTest {
    @Test
    void whatTheWriterWritesIsRead() throws IOException {
        try (InputStream in = Pipes.stream("t", out -> out.write(new byte[3 << 20]))) {
            assertThat(in.readAllBytes()).hasSize(3 << 20);
        }
    }

    @Test
    void aFailedWriterIsAnErrorAtTheEndOfItsData() {
        assertThatThrownBy(() -> {
            try (InputStream in = Pipes.stream("t", out -> {
                out.write(new byte[1000]);
                throw new IOException("disk gone");
            })) {
                in.readAllBytes();
            }
        }).isInstanceOf(IOException.class).hasMessageContaining("disk gone");
    }

    @Test
    void aReaderThatStopsEndsTheWriter() throws Exception {
        CountDownLatch ended = new CountDownLatch(1);
        InputStream in = Pipes.stream("t", out -> {
            try {
                while (true) {
                    out.write(new byte[65536]);
                }
            } finally {
                ended.countDown();
            }
        });
        in.readNBytes(100);
        in.close();
        assertThat(ended.await(5, TimeUnit.SECONDS)).as("the writer stopped").isTrue();
    }
}
