package io.dockgate.engine.container;

import io.dockgate.engine.sys.SeqPacketSocket;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client attached to a container's (or exec session's) standard streams through conmon's attach
 * socket. conmon sends each chunk of output as one message whose first byte names the pipe (2 stdout,
 * 3 stderr); every message sent to it goes to the process's stdin, and our end of output closes stdin.
 * One pump task per attachment moves output to the {@link Sink}; it lives as long as the client stream,
 * never longer than the process.
 */
public final class Attachment {
    private static final Logger LOG = LoggerFactory.getLogger(Attachment.class);
    private static final int STDOUT_PIPE = 2;
    private static final int STDERR_PIPE = 3;
    /** conmon's CONN_SOCK_BUF_SIZE. */
    private static final int MAX_MESSAGE = 32768;

    /** Where output goes. Called from the pump thread; {@code output} may block to apply back-pressure. */
    public interface Sink {
        /** stream: 1 stdout, 2 stderr (Docker's stdcopy numbering). */
        void output(int stream, byte[] data, int offset, int length) throws IOException;

        /** No more output: the process ended and its output is drained, or the attachment was closed. */
        void end();
    }

    /** Which streams the client wants. */
    public record Streams(boolean stdin, boolean stdout, boolean stderr) {
    }

    private final SeqPacketSocket socket;
    private final Streams streams;
    private final Sink sink;
    private final CompletableFuture<Void> ended = new CompletableFuture<>();

    private Attachment(SeqPacketSocket socket, Streams streams, Sink sink) {
        this.socket = socket;
        this.streams = streams;
        this.sink = sink;
    }

    /**
     * Connects to the attach socket and starts pumping. {@code beforeEnd} is awaited between the end of
     * output and {@link Sink#end()} (an exec's exit code is recorded before its client learns it ended).
     */
    static Attachment open(Path attachSocket, Streams streams, Sink sink, Executor pump, Supplier<CompletableFuture<?>> beforeEnd)
            throws IOException {
        Attachment a = new Attachment(SeqPacketSocket.connect(attachSocket), streams, sink);
        pump.execute(() -> a.pump(beforeEnd));
        return a;
    }

    private void pump(Supplier<CompletableFuture<?>> beforeEnd) {
        byte[] buffer = new byte[65536];
        try {
            while (true) {
                int n = socket.receive(buffer);
                if (n < 0) {
                    break;
                }
                int pipe = buffer[0];
                if (pipe == STDOUT_PIPE && streams.stdout()) {
                    sink.output(1, buffer, 1, n - 1);
                } else if (pipe == STDERR_PIPE && streams.stderr()) {
                    sink.output(2, buffer, 1, n - 1);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("attachment ended: {}", e.toString());
        } finally {
            socket.release();
            try {
                if (beforeEnd != null) {
                    beforeEnd.get().get(30, java.util.concurrent.TimeUnit.SECONDS);
                }
            } catch (Exception e) {
                LOG.debug("waiting before the end of an attachment: {}", e.toString());
            }
            try {
                sink.end();
            } finally {
                ended.complete(null);
            }
        }
    }

    /**
     * Sends bytes to the process's stdin (blocks while conmon's buffer is full). Ignored without stdin.
     * Messages are cut to conmon's receive buffer: a longer one would be truncated by the socket.
     */
    public void write(byte[] data, int offset, int length) throws IOException {
        if (!streams.stdin()) {
            return;
        }
        for (int sent = 0; sent < length; sent += MAX_MESSAGE) {
            socket.send(data, offset + sent, Math.min(MAX_MESSAGE, length - sent));
        }
    }

    /** The client closed its input: conmon closes the process's stdin (unless it must stay open). */
    public void closeStdin() {
        if (streams.stdin()) {
            socket.shutdownOutput();
        }
    }

    /** Detaches: the pump stops and the sink ends; the process goes on. */
    public void close() {
        socket.close();
    }

    public CompletableFuture<Void> ended() {
        return ended;
    }
}
