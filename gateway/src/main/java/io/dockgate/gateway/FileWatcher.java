package io.dockgate.gateway;

import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Notices when any of a set of files changes (content replaced, renamed over, touched) by polling their
 * inode, size and change times off the event loop, and calls back once the files have been stable for one
 * more poll, so that a rotation that replaces the certificate and the key one after the other is seen whole.
 */
final class FileWatcher {
    private final Vertx vertx;
    private final List<Path> files;
    private final Runnable onChange;
    private final long periodMs;
    private List<Object> lastSeen;
    private List<Object> pending;
    private long timer = -1;
    private boolean polling;

    FileWatcher(Vertx vertx, List<Path> files, long periodMs, Runnable onChange) {
        this.vertx = vertx;
        this.files = List.copyOf(files);
        this.periodMs = periodMs;
        this.onChange = onChange;
    }

    void start() {
        lastSeen = signature();
        timer = vertx.setPeriodic(periodMs, id -> poll());
    }

    void stop() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
    }

    private void poll() {
        if (polling) {
            return;
        }
        polling = true;
        vertx.executeBlocking(this::signature, false).onComplete(ar -> {
            polling = false;
            if (ar.failed()) {
                return;
            }
            List<Object> now = ar.result();
            if (Objects.equals(now, lastSeen)) {
                pending = null;
                return;
            }
            if (Objects.equals(now, pending)) {
                lastSeen = now;
                pending = null;
                onChange.run();
            } else {
                pending = now;
            }
        });
    }

    private List<Object> signature() {
        List<Object> parts = new ArrayList<>();
        for (Path file : files) {
            try {
                Map<String, Object> a = Files.readAttributes(file, "unix:ino,size,lastModifiedTime,ctime");
                parts.add(List.of(a.get("ino"), a.get("size"), String.valueOf(a.get("lastModifiedTime")), String.valueOf(a.get("ctime"))));
            } catch (IOException | UnsupportedOperationException e) {
                parts.add("missing");
            }
        }
        return parts;
    }
}
