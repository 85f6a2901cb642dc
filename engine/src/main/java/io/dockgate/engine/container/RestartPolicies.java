package io.dockgate.engine.container;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Docker's restart policies ({@code no}, {@code on-failure[:N]}, {@code always}, {@code unless-stopped})
 * with its back-off: the delay starts at 100 ms and doubles up to one minute, and goes back to 100 ms
 * after a run of ten seconds or more. Between runs the container is {@code restarting}. {@code docker
 * stop} cancels the policy until the next start; {@code docker kill} marks the container stopped by its
 * user, which only {@code unless-stopped} heeds. The container service's one timer thread serves every container.
 */
final class RestartPolicies {
    private static final Logger LOG = LoggerFactory.getLogger(RestartPolicies.class);
    static final long INITIAL_DELAY_MS = 100;
    static final long MAX_DELAY_MS = 60_000;
    private static final Duration RESET_AFTER = Duration.ofSeconds(10);

    /** What restarting needs of the containers: a container's lock, and starting its process. */
    interface Starter {
        Object lock(String id);

        ContainerRecord startProcess(String id) throws IOException;
    }

    private final Starter containers;
    private final ContainerStore store;
    private final Executor background;
    private final ScheduledExecutorService timer;
    private final Map<String, Long> delays = new ConcurrentHashMap<>();
    private final Set<String> canceled = ConcurrentHashMap.newKeySet();
    private final Map<String, ScheduledFuture<?>> pending = new ConcurrentHashMap<>();

    RestartPolicies(Starter containers, ContainerStore store, Executor background, ScheduledExecutorService timer) {
        this.timer = timer;
        this.containers = containers;
        this.store = store;
        this.background = background;
    }

    /** Whether the policy restarts a container that just exited (Docker's restart manager's rule). */
    static boolean shouldRestart(ContainerRecord c) {
        ContainerSpec.RestartPolicy p = c.spec().host().restartPolicy();
        if (p == null) {
            return false;
        }
        return switch (p.name()) {
            case "always" -> true;
            case "unless-stopped" -> !c.status().stoppedByUser();
            case "on-failure" -> c.status().exitCode() != 0
                    && (p.maximumRetryCount() == 0 || c.restartCount() < p.maximumRetryCount());
            default -> false;
        };
    }

    /**
     * Called with the container's lock held, right after an exit was recorded: schedules the restart
     * (state restarting, restart count up) when the policy wants one. True when it does.
     */
    boolean afterExit(ContainerRecord c) throws IOException {
        if (c == null || canceled.contains(c.id()) || !shouldRestart(c)) {
            return false;
        }
        long delay = nextDelay(c);
        ContainerRecord.Status s = c.status();
        store.save(c.withRestartCount(c.restartCount() + 1).withStatus(s.restarting()));
        schedule(c.id(), delay);
        LOG.info("container {} exited with {}: restarting in {} ms (policy {})", c.id().substring(0, 12), s.exitCode(), delay,
                c.spec().host().restartPolicy().name());
        return true;
    }

    private long nextDelay(ContainerRecord c) {
        long ran;
        try {
            ran = Duration.between(Instant.parse(c.status().startedAt()), Instant.parse(c.status().finishedAt())).toMillis();
        } catch (RuntimeException e) {
            ran = 0;
        }
        Long previous = delays.get(c.id());
        long delay = previous == null || ran >= RESET_AFTER.toMillis() ? INITIAL_DELAY_MS : Math.min(MAX_DELAY_MS, previous * 2);
        delays.put(c.id(), delay);
        return delay;
    }

    private void schedule(String id, long delayMs) {
        ScheduledFuture<?> f = timer.schedule(() -> background.execute(() -> restart(id)), delayMs, TimeUnit.MILLISECONDS);
        ScheduledFuture<?> old = pending.put(id, f);
        if (old != null) {
            old.cancel(false);
        }
    }

    private void restart(String id) {
        pending.remove(id);
        ContainerRecord c = store.get(id);
        if (c == null || canceled.contains(id) || c.status().state() != ContainerState.RESTARTING) {
            return;
        }
        try {
            containers.startProcess(id);
        } catch (IOException | RuntimeException e) {
            LOG.warn("restart of {} failed: {}", id.substring(0, 12), e.getMessage());
            synchronized (containers.lock(id)) {
                try {
                    afterExit(store.get(id)); // the failed start counts as an exit (code 128): back off and retry
                } catch (IOException | RuntimeException again) {
                    LOG.error("scheduling the restart of {} failed", id, again);
                }
            }
        }
    }

    /** At daemon start: restarting containers resume their schedule; exited ones the policy wants running start. */
    void atStartup(ContainerRecord c) {
        if (c.status().state() == ContainerState.RESTARTING) {
            schedule(c.id(), INITIAL_DELAY_MS);
        } else if (c.status().state() == ContainerState.EXITED && c.spec().host().restartPolicy() != null
                && (c.spec().host().restartPolicy().name().equals("always")
                || c.spec().host().restartPolicy().name().equals("unless-stopped") && !c.status().stoppedByUser())) {
            background.execute(() -> {
                try {
                    containers.startProcess(c.id());
                    LOG.info("started container {} (restart policy {})", c.id().substring(0, 12), c.spec().host().restartPolicy().name());
                } catch (IOException | RuntimeException e) {
                    LOG.warn("starting container {} at daemon start failed: {}", c.id().substring(0, 12), e.getMessage());
                }
            });
        }
    }

    /** docker stop (or rm -f): no restart until the next start. */
    void cancel(String id) {
        canceled.add(id);
        ScheduledFuture<?> f = pending.remove(id);
        if (f != null) {
            f.cancel(false);
        }
    }

    /** docker start: the policy applies again, back-off from the start. */
    void userStarted(String id) {
        canceled.remove(id);
        delays.remove(id);
        ScheduledFuture<?> f = pending.remove(id);
        if (f != null) {
            f.cancel(false);
        }
    }

    void forget(String id) {
        cancel(id);
        canceled.remove(id);
        delays.remove(id);
    }
}
