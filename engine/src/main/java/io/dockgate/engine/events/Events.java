package io.dockgate.engine.events;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's event bus: components emit, subscribers (docker events streams) receive each event as it
 * happens, and the last events are kept for {@code --since} (dockerd keeps 1024 too). Listeners must not
 * block: they are called on the emitting thread, in order.
 */
public final class Events {
    private static final Logger LOG = LoggerFactory.getLogger(Events.class);
    private static final int KEEP = 1024;

    private final Deque<Event> recent = new ArrayDeque<>();
    private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();
    private long lastNano;

    /** Emits an event now; attributes may be given as alternating keys and values. */
    public void emit(String type, String action, String id, Map<String, String> attributes) {
        emit(type, action, id, attributes, Map.of());
    }

    /** Emits an event about an object with labels that scope who may see it (see {@link Event#scope()}). */
    public void emit(String type, String action, String id, Map<String, String> attributes, Map<String, String> scope) {
        Event e;
        synchronized (recent) {
            Instant now = Instant.now();
            long nano = Math.max(now.getEpochSecond() * 1_000_000_000L + now.getNano(), lastNano + 1); // strictly increasing
            lastNano = nano;
            e = new Event(type, action, id, Map.copyOf(new LinkedHashMap<>(attributes)), nano, scope == null ? Map.of() : Map.copyOf(scope));
            recent.addLast(e);
            if (recent.size() > KEEP) {
                recent.removeFirst();
            }
            // Under the lock: a new subscriber gets each event exactly once, replayed or live, in order.
            for (Consumer<Event> l : listeners) {
                try {
                    l.accept(e);
                } catch (RuntimeException x) {
                    LOG.warn("event listener failed: {}", x.toString());
                }
            }
        }
    }

    public static Map<String, String> attributes(String... keyValues) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            if (keyValues[i + 1] != null) {
                m.put(keyValues[i], keyValues[i + 1]);
            }
        }
        return m;
    }

    /** A live subscription; close it when the stream ends. */
    public interface Subscription extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Subscribes, first handing over the kept events at or after sinceNano (none when negative), with no
     * event lost or repeated between the replay and the live ones.
     */
    public Subscription subscribe(long sinceNano, Consumer<Event> listener) {
        List<Event> replay = new ArrayList<>();
        synchronized (recent) {
            if (sinceNano >= 0) {
                for (Event e : recent) {
                    if (e.timeNano() >= sinceNano) {
                        replay.add(e);
                    }
                }
            }
            replay.forEach(listener);
            listeners.add(listener);
        }
        return () -> listeners.remove(listener);
    }
}
