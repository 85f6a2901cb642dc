package io.dockgate.engine.container;

import io.dockgate.engine.EngineException;
import io.dockgate.engine.sys.Syscalls;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Clients attached to containers' streams: attached at once to a running container, or held until its
 * next start (between {@code runc create} and {@code runc start}, so no output is lost); counted, so
 * that an auto-removal waits for the last client to read the last output; and the console size.
 */
final class Attachments {
    private record PendingAttach(Attachment.Streams streams, Attachment.Sink sink, CompletableFuture<Attachment> future) {
    }

    private final ContainerStore store;
    private final Function<String, Object> locks;
    private final Path bundles;
    private final Executor background;
    private final ContainerEvents events;
    private final Consumer<String> autoRemove;
    private final Map<String, Integer> attached = new ConcurrentHashMap<>();
    private final Map<String, Boolean> removeWhenDetached = new ConcurrentHashMap<>();
    /** Clients attached to a container that has no process yet: connected when it starts. */
    private final Map<String, List<PendingAttach>> pendingAttach = new ConcurrentHashMap<>();

    Attachments(ContainerStore store, Function<String, Object> locks, Path bundles, Executor background, ContainerEvents events,
                Consumer<String> autoRemove) {
        this.store = store;
        this.locks = locks;
        this.bundles = bundles;
        this.background = background;
        this.events = events;
        this.autoRemove = autoRemove;
    }

    /**
     * Whether the container's auto-removal waits for attached clients (they read the last output first);
     * the last one to detach removes it.
     */
    boolean removeWhenDetached(String id) {
        synchronized (attached) {
            if (attached.getOrDefault(id, 0) > 0) {
                removeWhenDetached.put(id, true);
                return true;
            }
            return false;
        }
    }

    /**
     * Attaches a client to the container's streams through conmon's attach socket. A running container
     * is attached at once; a created or stopped one when it next starts, between {@code runc create} and
     * {@code runc start}, so no output is lost (docker run attaches before it starts). Cancel the future
     * to give up waiting. While attached, an auto-remove waits for the client to read the last output.
     */
    CompletableFuture<Attachment> attach(String ref, Attachment.Streams streams, Attachment.Sink sink) {
        ContainerRecord c = store.resolve(ref);
        CompletableFuture<Attachment> future = new CompletableFuture<>();
        synchronized (locks.apply(c.id())) {
            ContainerRecord now = store.get(c.id());
            if (now == null) {
                throw EngineException.notFound("No such container: " + ref);
            }
            if (now.status().state().hasProcess()) {
                connect(now.id(), new PendingAttach(streams, sink, future));
            } else {
                pendingAttach.computeIfAbsent(now.id(), k -> new CopyOnWriteArrayList<>()).add(new PendingAttach(streams, sink, future));
            }
        }
        return future;
    }

    private void connect(String id, PendingAttach p) {
        if (p.future().isDone()) {
            return; // cancelled by its client
        }
        ContainerRecord record = store.get(id);
        if (record != null) {
            events.emit(record, "attach");
        }
        synchronized (attached) {
            attached.merge(id, 1, Integer::sum);
        }
        Attachment.Sink counted = new Attachment.Sink() {
            @Override
            public void output(int stream, byte[] data, int offset, int length) throws IOException {
                p.sink().output(stream, data, offset, length);
            }

            @Override
            public void end() {
                try {
                    p.sink().end();
                } finally {
                    detach(id);
                }
            }
        };
        try {
            p.future().complete(Attachment.open(bundles.resolve(id).resolve("attach"), p.streams(), counted, background, null));
        } catch (IOException | RuntimeException e) {
            detach(id);
            p.future().completeExceptionally(e);
        }
    }

    /** The container's process was created (not started yet): clients waiting for it are attached now. */
    void connectPending(String id) {
        List<PendingAttach> list = pendingAttach.remove(id);
        if (list != null) {
            list.forEach(p -> connect(id, p));
        }
    }

    /** The container is gone: clients still waiting for its start are let go, with nothing to read (as dockerd ends them). */
    void endPending(String id) {
        List<PendingAttach> list = pendingAttach.remove(id);
        if (list != null) {
            list.forEach(p -> p.future().cancel(false));
        }
    }

    /** An attached client's stream ended; performs a deferred auto-removal. */
    private void detach(String id) {
        boolean remove;
        synchronized (attached) {
            int left = attached.merge(id, -1, Integer::sum);
            if (left <= 0) {
                attached.remove(id);
            }
            remove = left <= 0 && removeWhenDetached.remove(id) != null;
        }
        if (remove) {
            background.execute(() -> autoRemove.accept(id));
        }
    }

    /** Sets the terminal size of a TTY container (conmon's control FIFO). */
    void resize(String ref, int height, int width) throws IOException {
        ContainerRecord c = store.resolve(ref);
        if (!c.status().state().hasProcess()) {
            throw EngineException.conflict("Container " + c.id() + " is not running");
        }
        resizeConsole(bundles.resolve(c.id()), height, width);
        events.emit(c, "resize", "height", Integer.toString(height), "width", Integer.toString(width));
    }

    static void resizeConsole(Path dir, int height, int width) throws IOException {
        if (height < 0 || width < 0 || height > 65535 || width > 65535) {
            throw EngineException.invalid("invalid terminal size " + height + "x" + width);
        }
        try {
            Syscalls.writeFifo(dir.resolve("ctl").toString(), Syscalls.bytes("1 " + height + " " + width + "\n"));
        } catch (Syscalls.ErrnoException e) {
            if (e.errno() == Syscalls.ENXIO || e.errno() == Syscalls.ENOENT) {
                throw EngineException.conflict("the process is not running");
            }
            throw e;
        }
    }
}
