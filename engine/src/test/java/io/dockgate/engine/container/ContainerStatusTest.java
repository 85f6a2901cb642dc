package io.dockgate.engine.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dockgate.engine.EngineException;
import org.junit.jupiter.api.Test;

/** Every change of a container's state goes through a guarded transition that names the state it was refused in. */
class ContainerStatusTest {
    private static final ContainerRecord.Status CREATED = ContainerRecord.Status.created();

    @Test
    void theLifecycleGoesThroughItsTransitions() {
        ContainerRecord.Status running = CREATED.running(42, 41, "2026-01-01T00:00:00Z");
        assertThat(running.state()).isEqualTo(ContainerState.RUNNING);
        assertThat(running.pid()).isEqualTo(42);
        ContainerRecord.Status paused = running.paused();
        assertThat(paused.state()).isEqualTo(ContainerState.PAUSED);
        assertThat(paused.unpaused().state()).isEqualTo(ContainerState.RUNNING);
        ContainerRecord.Status exited = paused.markStoppedByUser().exited(137, "2026-01-01T00:00:01Z", true, "");
        assertThat(exited.state()).isEqualTo(ContainerState.EXITED);
        assertThat(exited.exitCode()).isEqualTo(137);
        assertThat(exited.oomKilled()).isTrue();
        assertThat(exited.stoppedByUser()).as("kept through the exit").isTrue();
        assertThat(exited.pid()).isZero();
        ContainerRecord.Status restarting = exited.restarting();
        assertThat(restarting.state()).isEqualTo(ContainerState.RESTARTING);
        assertThat(restarting.restartCancelled().state()).isEqualTo(ContainerState.EXITED);
        assertThat(restarting.running(7, 6, "t").exitCode()).as("a new run has no exit code yet").isZero();
    }

    @Test
    void illegalTransitionsAreRefusedWithTheState() {
        assertThatThrownBy(CREATED::paused).isInstanceOf(EngineException.class).hasMessage("cannot pause container in state created");
        assertThatThrownBy(() -> CREATED.exited(0, "t", false, "")).hasMessageContaining("in state created");
        assertThatThrownBy(CREATED::unpaused).hasMessage("cannot unpause a container in state created");
        assertThatThrownBy(CREATED::restartCancelled).hasMessage("cannot cancel the restart of a container in state created");
        ContainerRecord.Status running = CREATED.running(1, 1, "t");
        assertThatThrownBy(() -> running.running(2, 2, "t")).hasMessage("cannot start container in state running");
        assertThatThrownBy(running::restarting).hasMessage("cannot restart container in state running");
    }

    @Test
    void aFailedStartKeepsACreatedContainerCreated() {
        assertThat(CREATED.startFailed("no such file").state()).isEqualTo(ContainerState.CREATED);
        assertThat(CREATED.startFailed("no such file").error()).isEqualTo("no such file");
        ContainerRecord.Status restarting = CREATED.running(1, 1, "t").exited(1, "t", false, "").restarting();
        ContainerRecord.Status failed = restarting.startFailed("gone");
        assertThat(failed.state()).isEqualTo(ContainerState.EXITED);
        assertThat(failed.exitCode()).isEqualTo(128);
    }
}
