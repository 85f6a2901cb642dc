package io.dockgate.gateway.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.Callable;

/** Runs engine calls (file system, tar, runc) on worker threads, never on an event loop. */
public final class Blocking {
    private final Vertx vertx;

    public Blocking(Vertx vertx) {
        this.vertx = vertx;
    }

    public <T> Future<T> run(Callable<T> work) {
        return vertx.executeBlocking(work, false);
    }

    public Vertx vertx() {
        return vertx;
    }
}
