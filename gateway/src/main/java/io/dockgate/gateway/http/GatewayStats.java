package io.dockgate.gateway.http;

import java.util.concurrent.atomic.LongAdder;

/** Counters of the request pipeline; tests read them to prove what did or did not reach the router. */
public final class GatewayStats {
    private final LongAdder received = new LongAdder();
    private final LongAdder routed = new LongAdder();
    private final LongAdder handshakesRejected = new LongAdder();

    void received() {
        received.increment();
    }

    void routed() {
        routed.increment();
    }

    public void handshakeRejected() {
        handshakesRejected.increment();
    }

    /** Requests that reached the pipeline (after a successful handshake, if any). */
    public long receivedCount() {
        return received.sum();
    }

    /** Requests that matched a route and were handed to a handler. */
    public long routedCount() {
        return routed.sum();
    }

    public long handshakesRejectedCount() {
        return handshakesRejected.sum();
    }
}
