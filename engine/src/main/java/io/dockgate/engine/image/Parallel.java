package io.dockgate.engine.image;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The layers of one push or pull worked on a few at a time: tasks run on their own daemon threads, results
 * kept in the tasks' order; the first failure in time is the one thrown, once every task has stopped (the
 * others see {@link #failed()} at their next check and are interrupted). A null task is skipped (its result
 * is null).
 */
final class Parallel {
    private final AtomicReference<Exception> first = new AtomicReference<>();

    /** Whether a task failed: the others stop at their next check. */
    boolean failed() {
        return first.get() != null;
    }

    private static void cancel(List<? extends Future<?>> futures) {
        for (Future<?> f : futures) {
            if (f != null) {
                f.cancel(true);
            }
        }
    }

    <T> List<T> run(String threadName, int parallel, List<Callable<T>> tasks) throws IOException {
        long count = tasks.stream().filter(t -> t != null).count();
        List<T> results = new ArrayList<>(java.util.Collections.nCopies(tasks.size(), null));
        if (count == 0) {
            return results;
        }
        ExecutorService pool = Executors.newFixedThreadPool((int) Math.max(1, Math.min(parallel, count)), r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (Callable<T> task : tasks) {
                futures.add(task == null ? null : pool.submit(() -> {
                    try {
                        return task.call();
                    } catch (Exception e) {
                        first.compareAndSet(null, e);
                        throw e;
                    }
                }));
            }
            waiting:
            for (int i = 0; i < futures.size(); i++) {
                while (futures.get(i) != null) {
                    try {
                        results.set(i, futures.get(i).get(200, TimeUnit.MILLISECONDS));
                        break;
                    } catch (java.util.concurrent.TimeoutException e) {
                        if (failed()) { // another task failed: this one need not finish
                            cancel(futures);
                            break waiting;
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        first.compareAndSet(null, new InterruptedIOException("interrupted"));
                        cancel(futures);
                        break waiting;
                    } catch (ExecutionException | java.util.concurrent.CancellationException e) {
                        cancel(futures);
                        break waiting;
                    }
                }
            }
        } finally {
            pool.shutdownNow();
            try {
                pool.awaitTermination(60, TimeUnit.SECONDS); // nothing of a failed batch keeps running
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Exception e = first.get();
        if (e instanceof IOException io) {
            throw io;
        }
        if (e instanceof RuntimeException re) {
            throw re;
        }
        if (e != null) {
            throw new IllegalStateException(e);
        }
        return results;
    }
}
