package io.dockgate.gateway.authz;

import io.dockgate.config.policy.Policy;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Per-identity limits of the binding that allowed a request: a token bucket for the request rate and a
 * counter of open long-lived requests (streams). Keys are owner keys, so one identity's connections
 * share one bucket. Container quotas are checked by the authorizer (they need the engine's count).
 */
public final class Limiter {
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> streams = new ConcurrentHashMap<>();

    private static final class Bucket {
        private double tokens;
        private long last;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.last = now;
        }

        synchronized boolean take(long rate, long burst, long now) {
            tokens = Math.min(burst, tokens + (now - last) / 1e9 * rate);
            last = now;
            if (tokens >= 1) {
                tokens -= 1;
                return true;
            }
            return false;
        }
    }

    /** Takes one request from the identity's bucket; a reason when the rate is exceeded. */
    public Optional<String> admit(String owner, Policy.Limits limits) {
        if (limits.rate().isEmpty()) {
            return Optional.empty();
        }
        long rate = limits.rate().getAsLong();
        long burst = limits.burst().orElse(Math.max(1, rate));
        long now = System.nanoTime();
        Bucket b = buckets.computeIfAbsent(owner, k -> new Bucket(burst, now));
        return b.take(rate, burst, now) ? Optional.empty()
                : Optional.of("request rate limit of " + rate + "/s exceeded");
    }

    /**
     * Opens a stream for the identity; returns the release action, or empty when the identity already
     * has its maximum of open streams.
     */
    public Optional<Runnable> openStream(String owner, Policy.Limits limits) {
        if (limits.streams().isEmpty()) {
            return Optional.of(() -> { });
        }
        AtomicInteger open = streams.computeIfAbsent(owner, k -> new AtomicInteger());
        if (open.incrementAndGet() > limits.streams().getAsLong()) {
            open.decrementAndGet();
            return Optional.empty();
        }
        java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
        return Optional.of(() -> {
            if (released.compareAndSet(false, true)) {
                open.decrementAndGet();
            }
        });
    }

    /** Open streams of an identity (tests, metrics). */
    public int openStreams(String owner) {
        AtomicInteger n = streams.get(owner);
        return n == null ? 0 : n.get();
    }
}
