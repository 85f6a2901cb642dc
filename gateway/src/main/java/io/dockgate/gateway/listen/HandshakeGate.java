package io.dockgate.gateway.listen;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bounds the TLS handshakes in progress, per source address and in total: before a client is identified,
 * a connection costs the daemon a key exchange and a signature, and a handshake that never ends holds
 * its slot until the handshake timeout. A connection over a bound is refused at its first TLS record,
 * before any of that work ({@code --max-concurrent-handshakes}, {@code --max-concurrent-handshakes-per-ip};
 * 0: no bound). Slots are taken when the connection is accepted and given back when its handshake
 * finishes or fails, or the connection closes.
 */
public final class HandshakeGate {
    private final int maxTotal;
    private final int maxPerAddress;
    private final Map<String, Integer> perAddress = new HashMap<>();
    private int total;
    private final AtomicLong refused = new AtomicLong();

    public HandshakeGate(int maxTotal, int maxPerAddress) {
        this.maxTotal = maxTotal;
        this.maxPerAddress = maxPerAddress;
    }

    /** A gate without bounds. */
    public static HandshakeGate unbounded() {
        return new HandshakeGate(0, 0);
    }

    /** A handshake that may proceed, with the slot it holds; or why it may not. */
    public record Admission(Runnable release, String refusal) {
        public boolean admitted() {
            return refusal == null;
        }
    }

    /** Takes a slot for a handshake from this address, or says which bound it would break. */
    public synchronized Admission enter(String address) {
        int fromAddress = perAddress.getOrDefault(address, 0);
        if (maxPerAddress > 0 && fromAddress >= maxPerAddress) {
            refused.incrementAndGet();
            return new Admission(() -> { }, "too many TLS handshakes in progress from " + address + " (limit " + maxPerAddress
                    + ", --max-concurrent-handshakes-per-ip)");
        }
        if (maxTotal > 0 && total >= maxTotal) {
            refused.incrementAndGet();
            return new Admission(() -> { }, "too many TLS handshakes in progress (limit " + maxTotal + ", --max-concurrent-handshakes)");
        }
        perAddress.put(address, fromAddress + 1);
        total++;
        AtomicBoolean released = new AtomicBoolean();
        return new Admission(() -> {
            if (released.compareAndSet(false, true)) {
                leave(address);
            }
        }, null);
    }

    private synchronized void leave(String address) {
        total--;
        perAddress.computeIfPresent(address, (a, n) -> n > 1 ? n - 1 : null);
    }

    /** Handshakes in progress now (all addresses). */
    public synchronized int inProgress() {
        return total;
    }

    /** Handshakes refused by a bound since the start. */
    public long refusals() {
        return refused.get();
    }

    /** The bounds, for the log. */
    public Optional<String> describe() {
        if (maxTotal == 0 && maxPerAddress == 0) {
            return Optional.empty();
        }
        return Optional.of((maxTotal == 0 ? "unbounded" : String.valueOf(maxTotal)) + " TLS handshakes in progress, "
                + (maxPerAddress == 0 ? "unbounded" : String.valueOf(maxPerAddress)) + " per source address");
    }
}
