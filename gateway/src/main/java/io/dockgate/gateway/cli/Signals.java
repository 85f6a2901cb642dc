package io.dockgate.gateway.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import sun.misc.Signal;

/** SIGHUP handling through the JDK's (unsupported but long-stable) sun.misc.Signal. */
final class Signals {
    private Signals() {
    }

    /**
     * Runs the action on every SIGHUP. Returns false when the daemon was started with SIGHUP ignored
     * (under {@code nohup}): the JVM then leaves it ignored and no handler runs.
     */
    static boolean onHangup(Runnable action) {
        Signal.handle(new Signal("HUP"), signal -> action.run());
        return !hangupIgnored();
    }

    /** Whether SIGHUP (signal 1) is in this process's ignored set ({@code SigIgn} of /proc/self/status). */
    static boolean hangupIgnored() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("SigIgn:")) {
                    return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & 1L) != 0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return false;
        }
        return false;
    }
}
