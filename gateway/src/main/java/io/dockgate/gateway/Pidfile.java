package io.dockgate.gateway;

import io.dockgate.config.ConfigException;
import io.dockgate.files.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The daemon's pid file, as dockerd keeps it: a start refuses to run while the file names a live
 * process, and a file left by a dead process is replaced.
 */
final class Pidfile {
    private final Path path;

    private Pidfile(Path path) {
        this.path = path;
    }

    static Pidfile acquire(Path path) {
        try {
            if (Files.exists(path)) {
                String text = Files.readString(path).trim();
                if (text.matches("\\d+")) {
                    long pid = Long.parseLong(text);
                    if (pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                        throw new ConfigException("pid file " + path + " names the running process " + pid
                                + ": is another dockgate running? Stop it or remove the file");
                    }
                }
            }
            AtomicFiles.writeString(path, ProcessHandle.current().pid() + "\n", AtomicFiles.PUBLIC);
            return new Pidfile(path);
        } catch (IOException e) {
            throw new ConfigException("cannot write pid file " + path + ": " + e.getMessage(), e);
        }
    }

    void release() {
        try {
            String text = Files.readString(path).trim();
            if (text.equals(Long.toString(ProcessHandle.current().pid()))) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            // already gone
        }
    }
}
