package io.dockgate.gateway.upstream;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A tenant's {@code docker load} body on its way to the upstream: passed on as it comes (with
 * back-pressure), read by a {@link TarWatch}, and held at the archive's end-of-archive marker until the
 * names its naming files give are judged. Judged well, the rest follows and the body ends; refused (or
 * unreadable), {@code refuse} is told, which resets the upstream's request: the upstream sees a body that
 * breaks off before the archive's end and loads nothing.
 */
final class GatedLoad implements ReadStream<Buffer> {
    /** What may follow the marker: tar's padding to a record, and at most this much. */
    private static final int MAX_HELD = 1 << 20;

    private final ReadStream<Buffer> source;
    private final Function<Map<String, byte[]>, Future<Void>> judge;
    private final Consumer<Throwable> refuse;
    private final TarWatch watch = new TarWatch();
    private Buffer held = Buffer.buffer();
    private Handler<Buffer> handler;
    private Handler<Void> endHandler;
    private boolean failed;

    GatedLoad(ReadStream<Buffer> source, Function<Map<String, byte[]>, Future<Void>> judge, Consumer<Throwable> refuse) {
        this.source = source;
        this.judge = judge;
        this.refuse = refuse;
    }

    @Override
    public GatedLoad exceptionHandler(Handler<Throwable> h) {
        source.exceptionHandler(h);
        return this;
    }

    @Override
    public GatedLoad handler(Handler<Buffer> h) {
        this.handler = h;
        source.handler(h == null ? null : this::piece);
        return this;
    }

    private void piece(Buffer b) {
        if (failed) {
            return;
        }
        int pass;
        try {
            pass = watch.feed(b);
        } catch (RuntimeException e) {
            fail(e);
            return;
        }
        if (pass > 0) {
            handler.handle(pass == b.length() ? b : b.getBuffer(0, pass));
        }
        if (pass < b.length()) {
            held.appendBuffer(b.getBuffer(pass, b.length()));
            if (held.length() > MAX_HELD) {
                fail(io.dockgate.engine.EngineException.invalid("the archive goes on past its end-of-archive marker"));
            }
        }
    }

    private void fail(Throwable e) {
        failed = true;
        refuse.accept(e);
    }

    @Override
    public GatedLoad pause() {
        source.pause();
        return this;
    }

    @Override
    public GatedLoad resume() {
        source.resume();
        return this;
    }

    @Override
    public GatedLoad fetch(long amount) {
        source.fetch(amount);
        return this;
    }

    @Override
    public GatedLoad endHandler(Handler<Void> h) {
        this.endHandler = h;
        source.endHandler(h == null ? null : v -> decide());
        return this;
    }

    private void decide() {
        if (failed) {
            return;
        }
        Future<Void> verdict;
        try {
            watch.finish();
            verdict = judge.apply(watch.naming());
        } catch (RuntimeException e) {
            verdict = Future.failedFuture(e);
        }
        verdict.onComplete(ar -> {
            if (ar.failed()) {
                fail(ar.cause());
                return;
            }
            if (held.length() > 0 && handler != null) {
                Buffer rest = held;
                held = Buffer.buffer();
                handler.handle(rest);
            }
            if (endHandler != null) {
                endHandler.handle(null);
            }
        });
    }
}
