package io.dockgate.gateway.stream;

import io.dockgate.engine.container.ContainerRecord;
import io.dockgate.engine.container.Containers;
import io.dockgate.engine.container.LogReader;
import io.dockgate.gateway.http.Blocking;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.WriteStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * Streams a container's log to a client in Docker's framing (stdcopy: 8-byte header per frame, or raw
 * bytes for a TTY), rotated files first, once or following until the container stops.
 * Following polls the file on a timer (no thread per stream); file reads run on worker threads.
 */
public final class LogStreamer {
    /** What to send. */
    public record Options(boolean stdout, boolean stderr, boolean follow, boolean timestamps, int tail, Instant since,
                          Instant until) {
    }

    private final Blocking blocking;
    private final Containers containers;

    public LogStreamer(Blocking blocking, Containers containers) {
        this.blocking = blocking;
        this.containers = containers;
    }

    /** Completes when the stream is done (the container stopped, or the client went away: {@code closed}). */
    public Future<Void> stream(ContainerRecord c, Options o, WriteStream<Buffer> out, Future<Void> closed) {
        boolean tty = c.spec().tty();
        Path log = Path.of(c.logPath());
        Promise<Void> done = Promise.promise();
        closed.onComplete(v -> done.tryComplete());
        long[] offset = {0};
        boolean[] first = {true};
        Runnable[] poll = new Runnable[1];
        poll[0] = () -> blocking.run(() -> {
            // The state first: a log read after the process is gone is complete (its last partial line is sent).
            ContainerRecord now = containers.store().get(c.id());
            boolean running = now != null && now.status().state().active();
            LogReader.Chunk chunk = LogReader.read(log, offset[0], !running);
            if (first[0]) {
                List<LogReader.Entry> all = LogReader.readRotated(log);
                all.addAll(chunk.entries());
                chunk = new LogReader.Chunk(all, chunk.offset());
            }
            return new Object[] {chunk, running};
        }).onComplete(ar -> {
            if (done.future().isComplete()) {
                return;
            }
            if (ar.failed()) {
                done.tryFail(ar.cause());
                return;
            }
            LogReader.Chunk chunk = (LogReader.Chunk) ar.result()[0];
            boolean running = (Boolean) ar.result()[1];
            List<LogReader.Entry> entries = chunk.entries();
            if (first[0] && o.tail() >= 0 && entries.size() > o.tail()) {
                entries = entries.subList(entries.size() - o.tail(), entries.size());
            }
            first[0] = false;
            offset[0] = chunk.offset();
            Buffer buffer = Buffer.buffer();
            for (LogReader.Entry e : entries) {
                if ((e.stderr() && !o.stderr()) || (!e.stderr() && !o.stdout())) {
                    continue;
                }
                if (o.since() != null && e.time().isBefore(o.since()) || o.until() != null && e.time().isAfter(o.until())) {
                    continue;
                }
                byte[] bytes = (o.timestamps() ? e.time() + " " + e.text() : e.text()).getBytes(StandardCharsets.UTF_8);
                if (!tty) {
                    buffer.appendByte((byte) (e.stderr() ? 2 : 1)).appendBytes(new byte[] {0, 0, 0}).appendInt(bytes.length);
                }
                buffer.appendBytes(bytes);
            }
            Future<Void> written = buffer.length() > 0 ? out.write(buffer) : Future.succeededFuture();
            boolean idle = entries.isEmpty();
            boolean more = o.follow() && (running || !idle) && (o.until() == null || Instant.now().isBefore(o.until()));
            if (more) {
                written.onComplete(x -> blocking.vertx().setTimer(idle ? 100 : 1, t -> poll[0].run()));
            } else {
                written.onComplete(x -> done.tryComplete());
            }
        });
        poll[0].run();
        return done.future();
    }
}
