package io.dockgate.engine.image;

/** Progress of a push: per layer as a pull's, and each tag once its manifest is stored. */
public interface PushListener extends PullListener {
    /** The manifest of {@code tag} is stored at the registry under {@code digest}; {@code size} is its length. */
    void pushed(String tag, Digest digest, long size);

    /** Whether the push should stop (its client went away): checked between layers and while uploading. */
    default boolean cancelled() {
        return false;
    }
}
