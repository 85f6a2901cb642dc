package io.dockgate.gateway.api;

import io.dockgate.gateway.request.DockerJson;
import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.Engine;
import io.dockgate.engine.container.CgroupStats;
import io.dockgate.engine.container.ContainerRecord;
import io.dockgate.engine.container.ContainerSpec;
import io.dockgate.engine.container.Containers;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.http.Blocking;
import io.dockgate.gateway.http.OperationCatalog;
import io.dockgate.gateway.http.Responses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** docker stats (streamed every second, or one reading) and docker update. */
public final class StatsApi {
    private static final String ZERO_TIME = "0001-01-01T00:00:00Z";

    private final Engine engine;
    private final Blocking blocking;

    public StatsApi(Engine engine, Blocking blocking) {
        this.engine = engine;
        this.blocking = blocking;
    }

    public void register(OperationCatalog catalog) {
        catalog.add(OperationTable.CONTAINER_STATS, "GET", "/containers/{id}/stats", this::stats)
                .add(OperationTable.CONTAINER_UPDATE, "POST", "/containers/{id}/update", this::update);
    }

    private Containers containers() {
        return engine.containers();
    }

    Future<?> stats(ApiRequest request) {
        String id = request.param("id");
        boolean stream = request.query("stream").map(v -> !v.equals("0") && !v.equalsIgnoreCase("false")).orElse(true);
        boolean oneShot = request.queryBool("one-shot");
        if (oneShot && stream) {
            throw io.dockgate.engine.EngineException.invalid("cannot have stream=true and one-shot=true");
        }
        return blocking.run(() -> {
            ContainerRecord c = containers().inspect(id);
            return Map.entry(c, new Reading(containers().stats(c.id())));
        }).compose(first -> {
            ContainerRecord c = first.getKey();
            HttpServerResponse response = request.response();
            if (!stream) {
                if (oneShot) {
                    return Responses.json(request, 200, json(c, first.getValue().sample(), null));
                }
                Promise<Void> sent = Promise.promise();
                blocking.vertx().setTimer(1000, t -> blocking.run(() -> new Reading(containers().stats(c.id())))
                        .compose(second -> Responses.json(request, 200, json(c, second.sample(), first.getValue().sample())))
                        .onComplete(ar -> sent.tryComplete()));
                return sent.future();
            }
            response.setStatusCode(200).setChunked(true).putHeader("Content-Type", Responses.JSON);
            Promise<Void> done = Promise.promise();
            response.closeHandler(v -> done.tryComplete());
            CgroupStats.Sample[] previous = {null};
            Runnable[] tick = new Runnable[1];
            tick[0] = () -> blocking.run(() -> {
                ContainerRecord now = containers().store().get(c.id());
                return now == null ? null : Map.entry(now, new Reading(containers().stats(c.id())));
            }).onComplete(ar -> {
                if (done.future().isComplete()) {
                    return;
                }
                if (ar.failed() || ar.result() == null) {
                    response.end();
                    done.tryComplete();
                    return;
                }
                CgroupStats.Sample sample = ar.result().getValue().sample();
                String line = DockerJson.MAPPER.valueToTree(json(ar.result().getKey(), sample, previous[0])).toString() + "\n";
                previous[0] = sample;
                response.write(Buffer.buffer(line)).onComplete(w -> blocking.vertx().setTimer(1000, t -> tick[0].run()));
            });
            tick[0].run();
            return done.future();
        });
    }

    /** A reading that may be absent (a stopped container reports zeros, as dockerd does). */
    private record Reading(CgroupStats.Sample sample) {
    }

    static Map<String, Object> json(ContainerRecord c, CgroupStats.Sample s, CgroupStats.Sample pre) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("read", s == null ? ZERO_TIME : s.read().toString());
        m.put("preread", pre == null ? ZERO_TIME : pre.read().toString());
        m.put("pids_stats", s == null ? Map.of() : s.pidsLimit() > 0 ? Map.of("current", s.pidsCurrent(), "limit", s.pidsLimit())
                : Map.of("current", s.pidsCurrent()));
        Map<String, Object> blkio = new LinkedHashMap<>();
        blkio.put("io_service_bytes_recursive", s == null ? null : blkio(s.ioServiceBytes()));
        blkio.put("io_serviced_recursive", s == null ? null : blkio(s.ioServiced()));
        for (String k : List.of("io_queue_recursive", "io_service_time_recursive", "io_wait_time_recursive", "io_merged_recursive",
                "io_time_recursive", "sectors_recursive")) {
            blkio.put(k, null);
        }
        m.put("blkio_stats", blkio);
        m.put("num_procs", 0);
        m.put("storage_stats", Map.of());
        m.put("cpu_stats", cpu(s));
        m.put("precpu_stats", cpu(pre));
        Map<String, Object> memory = new LinkedHashMap<>();
        if (s != null) {
            memory.put("usage", s.memoryUsage());
            memory.put("max_usage", s.memoryMaxUsage());
            memory.put("stats", s.memoryStat());
            memory.put("failcnt", s.memoryFailcnt());
            memory.put("limit", Math.min(s.memoryLimit(), hostMemory()));
        }
        m.put("memory_stats", memory);
        m.put("name", c.name());
        m.put("id", c.id());
        return m;
    }

    private static long hostMemory() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize();
    }

    private static Map<String, Object> cpu(CgroupStats.Sample s) {
        Map<String, Object> usage = new LinkedHashMap<>();
        Map<String, Object> cpu = new LinkedHashMap<>();
        if (s == null) {
            usage.put("total_usage", 0);
            usage.put("usage_in_kernelmode", 0);
            usage.put("usage_in_usermode", 0);
            cpu.put("cpu_usage", usage);
            cpu.put("throttling_data", Map.of("periods", 0, "throttled_periods", 0, "throttled_time", 0));
            return cpu;
        }
        usage.put("total_usage", s.cpuTotal());
        usage.put("percpu_usage", s.cpuPerCpu());
        usage.put("usage_in_kernelmode", s.cpuSystem());
        usage.put("usage_in_usermode", s.cpuUser());
        cpu.put("cpu_usage", usage);
        cpu.put("system_cpu_usage", s.systemCpu());
        cpu.put("online_cpus", s.onlineCpus());
        cpu.put("throttling_data", Map.of("periods", s.throttlePeriods(), "throttled_periods", s.throttledPeriods(),
                "throttled_time", s.throttledTime()));
        return cpu;
    }

    private static List<Map<String, Object>> blkio(List<CgroupStats.Blkio> entries) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (CgroupStats.Blkio b : entries) {
            out.add(Map.of("major", b.major(), "minor", b.minor(), "op", b.op(), "value", b.value()));
        }
        return out;
    }

    /** docker update: resources and restart policy, as {@link UpdateRequest} translated them for the authorizer. */
    Future<?> update(ApiRequest request) {
        String id = request.param("id");
        ContainerSpec.Host changes = request.model(ContainerSpec.Host.class);
        return blocking.run(() -> containers().update(id, changes))
                .compose(c -> Responses.json(request, 200, Map.of("Warnings", List.of())));
    }
}
