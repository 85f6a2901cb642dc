package io.dockgate.engine.image;

/** Progress of a pull, per layer (short digest) or for the whole image (id null or the tag). */
public interface PullListener {
    PullListener NONE = new PullListener() {
        @Override
        public void status(String id, String status) {
        }

        @Override
        public void progress(String id, String status, long current, long total) {
        }
    };

    void status(String id, String status);

    void progress(String id, String status, long current, long total);
}
