package io.dockgate.engine.container;

import io.dockgate.engine.EngineException;

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
                         boolean oomKilled, String error, boolean stoppedByUser, io.dockgate.engine.net.NetworkState network) {
        public static Status created() {
            return new Status(ContainerState.CREATED, 0, 0, 0, "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z", false, "", false, null);
        }

        // Every change of state goes through one of these, each guarded by ContainerState.to: an illegal
        // transition is refused with the state it was tried from.

        /** The process runs (from created, exited or restarting): a new start time, no exit code or error. */
        public Status running(int pid, int conmonPid, String startedAt) {
            return running(pid, conmonPid, startedAt, null);
        }

        /** Running, on the network it was given (null: none of the daemon's). */
        public Status running(int pid, int conmonPid, String startedAt, io.dockgate.engine.net.NetworkState network) {
            return new Status(state.to(ContainerState.RUNNING, "start"), pid, conmonPid, 0, startedAt, finishedAt, false, "", false,
                    network);
        }

        /** A start failed: a created container stays created; another is exited (128) with the error. */
        public Status startFailed(String why) {
            ContainerState next = state == ContainerState.CREATED || state == ContainerState.EXITED ? state
                    : state.to(ContainerState.EXITED, "fail the start of");
            return new Status(next, 0, 0, next == ContainerState.CREATED ? 0 : 128, startedAt, finishedAt, false, why, false, null);
        }

        /** The process exited (from running or paused). */
        public Status exited(int code, String at, boolean oom, String why) {
            return new Status(state.to(ContainerState.EXITED, "record the exit of"), 0, 0, code, startedAt, at, oom, why, stoppedByUser,
                    null);
        }

        /** The restart policy will start it again (from exited). */
        public Status restarting() {
            return new Status(state.to(ContainerState.RESTARTING, "restart"), 0, 0, exitCode, startedAt, finishedAt, oomKilled, error,
                    stoppedByUser, null);
        }

        /** A restart that was cancelled (stop, kill, remove): exited again, with the last exit code. */
        public Status restartCancelled() {
            if (state != ContainerState.RESTARTING) {
                throw EngineException.conflict("cannot cancel the restart of a container in state " + state.wire());
            }
            return new Status(state.to(ContainerState.EXITED, "settle"), 0, 0, exitCode, startedAt, finishedAt, oomKilled, error,
                    stoppedByUser, null);
        }

        public Status paused() {
            return new Status(state.to(ContainerState.PAUSED, "pause"), pid, conmonPid, exitCode, startedAt, finishedAt, oomKilled,
                    error, stoppedByUser, network);
        }

        public Status unpaused() {
            if (state != ContainerState.PAUSED) {
                throw EngineException.conflict("cannot unpause a container in state " + state.wire());
            }
            return new Status(state.to(ContainerState.RUNNING, "unpause"), pid, conmonPid, exitCode, startedAt, finishedAt, oomKilled,
                    error, stoppedByUser, network);
        }

        /** The same status on another network (docker network connect and disconnect of a running container). */
        public Status withNetwork(io.dockgate.engine.net.NetworkState other) {
            return new Status(state, pid, conmonPid, exitCode, startedAt, finishedAt, oomKilled, error, stoppedByUser, other);
        }

        /** Its user stopped or killed it: an unless-stopped policy does not restart it. The state stays. */
        public Status markStoppedByUser() {
            return new Status(state, pid, conmonPid, exitCode, startedAt, finishedAt, oomKilled, error, true, network);
        }
    }

    public ContainerRecord withStatus(Status s) {
        return new ContainerRecord(id, name, created, imageId, imageRef, spec, path, args, s, restartCount, logPath);
    }

    public ContainerRecord withSpec(ContainerSpec newSpec) {
        return new ContainerRecord(id, name, created, imageId, imageRef, newSpec, path, args, status, restartCount, logPath);
    }

    public ContainerRecord withName(String newName) {
        return new ContainerRecord(id, newName, created, imageId, imageRef, spec, path, args, status, restartCount, logPath);
    }

    public ContainerRecord withRestartCount(int count) {
        return new ContainerRecord(id, name, created, imageId, imageRef, spec, path, args, status, count, logPath);
    }
}
