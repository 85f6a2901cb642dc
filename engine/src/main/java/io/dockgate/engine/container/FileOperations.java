package io.dockgate.engine.container;

import io.dockgate.engine.oci.SpecBuilder;
import io.dockgate.engine.runtime.Runc;
import io.dockgate.engine.snapshot.SnapshotService;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * A container's files: docker cp (stat, read, write a path), export (the merged root filesystem) and
 * diff, on its filesystem mounted for the time of the work when stopped, and frozen while it is worked on
 * when running (so no symbolic link is swapped meanwhile).
 */
final class FileOperations {
    private final ContainerStore store;
    private final Function<String, Object> locks;
    private final SnapshotService snapshots;
    private final Runc runc;
    private final ContainerEvents events;
    private final ContainerCreation creation;

    FileOperations(ContainerStore store, Function<String, Object> locks, SnapshotService snapshots, Runc runc, ContainerEvents events,
                   ContainerCreation creation) {
        this.store = store;
        this.locks = locks;
        this.snapshots = snapshots;
        this.runc = runc;
        this.events = events;
        this.creation = creation;
    }

    /** docker export: the merged root filesystem as a tar (mounted for the time of the export if stopped). */
    void export(String ref, java.io.OutputStream out) throws IOException {
        ContainerRecord c = store.resolve(ref);
        synchronized (locks.apply(c.id())) {
            c = store.get(c.id());
            boolean active = c.status().state().hasProcess();
            Path rootfs = snapshots.mount(c.id());
            events.emit(c, "export");
            try {
                RootfsExporter.write(rootfs, out);
            } finally {
                if (!active) {
                    snapshots.unmount(c.id());
                }
            }
        }
    }

    /** HEAD archive: the path's stat, or NOT_FOUND. */
    Containers.PathStat statPath(String ref, String path) throws IOException {
        return withFiles(ref, files -> toStat(files.stat(path)));
    }

    /** GET archive: the path as a tar; the stat is returned once the tar is written. */
    Containers.PathStat readPath(String ref, String path, java.io.OutputStream out) throws IOException {
        events.emit(store.resolve(ref), "archive-path");
        return withFiles(ref, files -> toStat(files.read(path, out)));
    }

    /** PUT archive: a tar extracted into the directory at path. */
    void writePath(String ref, String path, java.io.InputStream tar, boolean noOverwriteDirNonDir, boolean copyUidGid)
            throws IOException {
        withFiles(ref, files -> {
            files.write(path, tar, noOverwriteDirNonDir, copyUidGid);
            return null;
        });
        events.emit(store.resolve(ref), "extract-to-dir");
    }

    private static Containers.PathStat toStat(ContainerFiles.PathStat s) {
        return new Containers.PathStat(s.name(), s.size(), s.unixMode(), s.mtime(), s.linkTarget());
    }

    private interface FilesWork<T> {
        T run(ContainerFiles files) throws IOException;
    }

    /** Runs work on the container's filesystem: mounted if stopped, frozen if running (no symlink swaps meanwhile). */
    private <T> T withFiles(String ref, FilesWork<T> work) throws IOException {
        ContainerRecord c = store.resolve(ref);
        synchronized (locks.apply(c.id())) {
            c = store.get(c.id());
            boolean running = c.status().state() == ContainerState.RUNNING;
            boolean active = c.status().state().hasProcess();
            Path rootfs = snapshots.mount(c.id());
            if (running) {
                runc.pause(c.id());
            }
            try {
                ContainerFiles files = new ContainerFiles(rootfs, c.spec().host().mountsOrEmpty(), m -> creation.hostPath(m, rootfs));
                return work.run(files);
            } finally {
                if (running) {
                    runc.resume(c.id());
                }
                if (!active) {
                    snapshots.unmount(c.id());
                }
            }
        }
    }

    /** docker diff: without the mount points the engine adds (the container's /etc files, and those runc makes). */
    List<SnapshotService.Change> changes(String ref) throws IOException {
        return snapshots.changes(store.resolve(ref).id(), SpecBuilder.ENGINE_MOUNT_POINTS);
    }

    /** Bytes in the container's writable layer (SizeRw). */
    long writableSize(String id) throws IOException {
        return snapshots.writableSize(id);
    }
}
