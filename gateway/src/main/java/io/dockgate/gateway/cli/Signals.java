package io.dockgate.gateway.cli;

import sun.misc.Signal;

/** SIGHUP handling through the JDK's (unsupported but long-stable) sun.misc.Signal. */
final class Signals {
    private Signals() {
    }

    static void onHangup(Runnable action) {
        Signal.handle(new Signal("HUP"), signal -> action.run());
    }
}
