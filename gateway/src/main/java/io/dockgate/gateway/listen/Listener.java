package io.dockgate.gateway.listen;

import io.vertx.core.Future;

/** A started listener: its address as clients dial it, and how to stop it. */
public interface Listener {
    /** The address in -H form, e.g. {@code tcp://127.0.0.1:2376} or {@code unix:///run/x.sock}. */
    String address();

    Future<Void> close();
}
