package io.dockgate.engine.shim;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread for all containers: inotify (WatchService) on the directory where conmon writes exit
 * files. Each new file is handed to the callback with the container ID (the file name).
 */
public final class ExitWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ExitWatcher.class);

    private final WatchService watch;
    private final Thread thread;

    public ExitWatcher(Path exits, Consumer<String> onExit) throws IOException {
        this.watch = FileSystems.getDefault().newWatchService();
        exits.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
        this.thread = new Thread(() -> loop(onExit), "dockgate-exit-watcher");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop(Consumer<String> onExit) {
        try {
            while (true) {
                WatchKey key = watch.take();
                for (WatchEvent<?> event : key.pollEvents()) {
                    if (event.context() instanceof Path p && !p.getFileName().toString().startsWith(".")) {
                        try {
                            onExit.accept(p.getFileName().toString());
                        } catch (RuntimeException e) {
                            LOG.error("exit handling for {} failed", p.getFileName(), e);
                        }
                    }
                }
                key.reset();
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closing
        }
    }

    @Override
    public void close() throws IOException {
        watch.close();
        thread.interrupt();
    }
}
