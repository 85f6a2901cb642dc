package io.dockgate.engine.container;

import io.dockgate.engine.EngineException;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * A container's lifecycle state, with the transitions allowed from each (containerd's habit: one
 * guarded place says what may follow what). Names are Docker's ({@code docker ps} status words).
 */
public enum ContainerState {
    CREATED, RUNNING, PAUSED, RESTARTING, EXITED, DEAD, REMOVING;

    private Set<ContainerState> next() {
        return switch (this) {
            case CREATED -> EnumSet.of(RUNNING, DEAD, REMOVING);
            case RUNNING -> EnumSet.of(PAUSED, EXITED, DEAD);
            case PAUSED -> EnumSet.of(RUNNING, EXITED, DEAD);
            case RESTARTING -> EnumSet.of(RUNNING, EXITED, DEAD, REMOVING);
            case EXITED -> EnumSet.of(RUNNING, RESTARTING, DEAD, REMOVING);
            case DEAD -> EnumSet.of(REMOVING);
            case REMOVING -> EnumSet.of(DEAD);
        };
    }

    /** Refuses a transition the lifecycle does not allow, naming both states. */
    public ContainerState to(ContainerState target, String what) {
        if (!next().contains(target)) {
            throw EngineException.conflict("cannot " + what + " container in state " + wire());
        }
        return target;
    }

    /** True while a process may be running (running, paused or restarting). */
    public boolean active() {
        return this == RUNNING || this == PAUSED || this == RESTARTING;
    }

    /** True while the container has a process (running or paused); restarting has none between runs. */
    public boolean hasProcess() {
        return this == RUNNING || this == PAUSED;
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }
}
