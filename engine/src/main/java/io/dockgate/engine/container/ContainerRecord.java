package io.dockgate.engine.container;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * The persisted state of one container ({@code <data-root>/containers/<id>/container.json}): identity,
 * what it was created with, and its runtime status. Immutable; every change writes a new one by rename.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ContainerRecord(
        String id,
        String name,
        String created,
        String imageId,
        String imageRef,
        ContainerSpec spec,
        String path,
        java.util.List<String> args,
        Status status,
        int restartCount,
        String logPath) {

    /** The runtime status Docker's inspect shows as State. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Status(ContainerState state, int pid, int conmonPid, int exitCode, String startedAt, String finishedAt,
                         boolean oomKilled, String error, boolean stoppedByUser) {
        public static Status created() {
            return new Status(ContainerState.CREATED, 0, 0, 0, "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z", false, "", false);
        }
    }

    public ContainerRecord withStatus(Status s) {
        return new ContainerRecord(id, name, created, imageId, imageRef, spec, path, args, s, restartCount, logPath);
    }

    public ContainerRecord withName(String newName) {
        return new ContainerRecord(id, newName, created, imageId, imageRef, spec, path, args, status, restartCount, logPath);
    }

    public ContainerRecord withRestartCount(int count) {
        return new ContainerRecord(id, name, created, imageId, imageRef, spec, path, args, status, count, logPath);
    }
}
