package io.dockgate.engine.container;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Health checks of running containers, as dockerd runs them: the test as an exec in the container every
 * interval (the start interval while the start period lasts), bounded by the timeout (exit code -1 and
 * "Health check exceeded timeout" then); a success makes the container healthy and clears the failing
 * streak, a failure counts unless it falls in the start period while still starting, and retries
 * failures in a row make it unhealthy. The last five results are kept with at most 4096 bytes of
 * output; each change of status is a {@code health_status: <status>} event. The state is kept while the
 * container exists (inspect shows it after a stop) and starts again as "starting" at each start, or
 * when a restarted daemon takes a running container back.
 */
public final class HealthMonitor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HealthMonitor.class);
    static final int MAX_OUTPUT = 4096;
    static final int MAX_LOG = 5;

    /** One probe's result (inspect's State.Health.Log entries). */
    public record Result(String start, String end, int exitCode, String output) {
    }

    /** State.Health: starting, healthy or unhealthy, the failing streak, the last results (oldest first). */
    public record View(String status, int failingStreak, List<Result> log) {
    }

    /** What probes need of the containers: run an exec and collect its output, emit events. */
    interface Host {
        ContainerRecord find(String id);

        /** Runs cmd in the container; its exit code and up to max bytes of stdout and stderr; -1 on timeout. */
        Probe run(String id, List<String> cmd, long timeoutNanos) throws Exception;

        void emit(ContainerRecord c, String action);
    }

    record Probe(int exitCode, String output) {
    }

    private final Host host;
    private final Executor probes;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "dockgate-health");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Monitor> monitors = new ConcurrentHashMap<>();

    HealthMonitor(Host host, Executor probes) {
        this.host = host;
        this.probes = probes;
    }

    /** One container's checks: its schedule and state. */
    private final class Monitor {
        final String id;
        final Healthcheck check;
        final long startedNanos = System.nanoTime();
        String status = "starting";
        int failingStreak;
        final ArrayDeque<Result> log = new ArrayDeque<>();
        ScheduledFuture<?> next;
        boolean stopped;

        Monitor(String id, Healthcheck check) {
            this.id = id;
            this.check = check;
        }

        synchronized void schedule() {
            if (stopped) {
                return;
            }
            boolean inStartPeriod = status.equals("starting") && check.startPeriod() > 0
                    && System.nanoTime() - startedNanos < check.startPeriod();
            long delay = inStartPeriod ? check.startIntervalOrDefault() : check.intervalOrDefault();
            next = timer.schedule(() -> probes.execute(this::probe), delay, TimeUnit.NANOSECONDS);
        }

        void probe() {
            ContainerRecord c = host.find(id);
            if (c == null || stoppedNow()) {
                return;
            }
            if (c.status().state() != ContainerState.RUNNING) {
                schedule(); // paused: no probe now
                return;
            }
            Instant start = Instant.now();
            Probe p;
            try {
                p = host.run(id, command(c), check.timeoutOrDefault());
            } catch (TimeoutException e) {
                p = new Probe(-1, "Health check exceeded timeout (" + seconds(check.timeoutOrDefault()) + ")");
            } catch (Exception e) {
                p = new Probe(-1, e.getMessage() == null ? e.toString() : e.getMessage());
            }
            record(c, new Result(start.toString(), Instant.now().toString(), p.exitCode(),
                    p.output().length() > MAX_OUTPUT ? p.output().substring(0, MAX_OUTPUT) : p.output()));
            schedule();
        }

        private synchronized boolean stoppedNow() {
            return stopped;
        }

        private void record(ContainerRecord c, Result r) {
            String changed = null;
            synchronized (this) {
                if (stopped) {
                    return;
                }
                log.addLast(r);
                while (log.size() > MAX_LOG) {
                    log.removeFirst();
                }
                String before = status;
                if (r.exitCode() == 0) {
                    failingStreak = 0;
                    status = "healthy";
                } else {
                    boolean grace = status.equals("starting") && check.startPeriod() > 0
                            && System.nanoTime() - startedNanos < check.startPeriod();
                    if (!grace) {
                        failingStreak++;
                        if (failingStreak >= check.retriesOrDefault()) {
                            status = "unhealthy";
                        }
                    }
                }
                if (!before.equals(status)) {
                    changed = status;
                }
            }
            if (changed != null) {
                host.emit(c, "health_status: " + changed);
            }
        }

        synchronized View view() {
            return new View(status, failingStreak, List.copyOf(log));
        }

        synchronized void stop() {
            stopped = true;
            if (next != null) {
                next.cancel(false);
            }
        }
    }

    /** The test as a command: CMD's arguments, CMD-SHELL's through /bin/sh -c (dockerd's default shell). */
    static List<String> command(ContainerRecord c) {
        List<String> test = c.spec().healthcheck().test();
        return test.get(0).equals("CMD-SHELL") ? List.of("/bin/sh", "-c", test.get(1)) : List.copyOf(test.subList(1, test.size()));
    }

    private static String seconds(long nanos) {
        return nanos % 1_000_000_000L == 0 ? nanos / 1_000_000_000L + "s" : (nanos / 1_000_000L) + "ms";
    }

    /** A container started (or was taken back running): its checks begin, as "starting". */
    void started(ContainerRecord c) {
        Healthcheck check = c.spec().healthcheck();
        if (check == null || !check.enabled()) {
            return;
        }
        Monitor m = new Monitor(c.id(), check);
        Monitor before = monitors.put(c.id(), m);
        if (before != null) {
            before.stop();
        }
        m.schedule();
    }

    /** The container's process ended: no more probes (the state stays for inspect). */
    void stopped(String id) {
        Monitor m = monitors.get(id);
        if (m != null) {
            m.stop();
        }
    }

    /** The container is gone. */
    void forget(String id) {
        Monitor m = monitors.remove(id);
        if (m != null) {
            m.stop();
        }
    }

    /** State.Health of a container with a health check that has started once, else null. */
    View view(String id) {
        Monitor m = monitors.get(id);
        return m == null ? null : m.view();
    }

    @Override
    public void close() {
        monitors.values().forEach(Monitor::stop);
        timer.shutdownNow();
        LOG.debug("health checks stopped");
    }
}
