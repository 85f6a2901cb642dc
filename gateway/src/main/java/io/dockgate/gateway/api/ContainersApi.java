package io.dockgate.gateway.api;

import io.dockgate.gateway.request.DockerJson;
import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.Engine;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.container.ContainerRecord;
import io.dockgate.engine.container.ContainerSpec;
import io.dockgate.engine.container.ContainerState;
import io.dockgate.engine.container.Containers;
import io.dockgate.engine.image.Image;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.http.Blocking;
import io.dockgate.gateway.http.OperationCatalog;
import io.dockgate.gateway.http.Responses;
import io.dockgate.gateway.request.Filters;
import io.dockgate.engine.container.Attachment;
import io.dockgate.engine.container.LogReader;
import io.dockgate.gateway.stream.AttachBridge;
import io.dockgate.gateway.stream.DetachKeys;
import io.dockgate.gateway.stream.LogStreamer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Container routes: Docker's JSON in and out, the engine's {@link Containers} behind. Fields that matter
 * for safety or behaviour and that the engine cannot honour yet are refused with 400, never ignored.
 */
public final class ContainersApi {
    private static final Set<String> LIST_FILTERS = Set.of("id", "name", "label", "status", "ancestor", "exited", "before", "since",
            "owner", "health");
    private final Engine engine;
    private final Blocking blocking;

    public ContainersApi(Engine engine, Blocking blocking) {
        this.engine = engine;
        this.blocking = blocking;
    }

    public void register(OperationCatalog catalog) {
        catalog.add(OperationTable.CONTAINER_LIST, "GET", "/containers/json", this::list)
                .add(OperationTable.CONTAINER_CREATE, "POST", "/containers/create", this::create)
                .add(OperationTable.CONTAINER_INSPECT, "GET", "/containers/{id}/json", this::inspect)
                .add(OperationTable.CONTAINER_START, "POST", "/containers/{id}/start", this::start)
                .add(OperationTable.CONTAINER_STOP, "POST", "/containers/{id}/stop", this::stop)
                .add(OperationTable.CONTAINER_KILL, "POST", "/containers/{id}/kill", this::kill)
                .add(OperationTable.CONTAINER_WAIT, "POST", "/containers/{id}/wait", this::await)
                .add(OperationTable.CONTAINER_LOGS, "GET", "/containers/{id}/logs", this::logs)
                .add(OperationTable.CONTAINER_ATTACH, "POST", "/containers/{id}/attach", this::attach)
                .add(OperationTable.CONTAINER_RESIZE, "POST", "/containers/{id}/resize", this::resize)
                .add(OperationTable.CONTAINER_RESTART, "POST", "/containers/{id}/restart", this::restart)
                .add(OperationTable.CONTAINER_PRUNE, "POST", "/containers/prune", this::prune)
                .add(OperationTable.CONTAINER_PAUSE, "POST", "/containers/{id}/pause", this::pause)
                .add(OperationTable.CONTAINER_UNPAUSE, "POST", "/containers/{id}/unpause", this::unpause)
                .add(OperationTable.CONTAINER_RENAME, "POST", "/containers/{id}/rename", this::rename)
                .add(OperationTable.CONTAINER_TOP, "GET", "/containers/{id}/top", this::top)
                .add(OperationTable.CONTAINER_CHANGES, "GET", "/containers/{id}/changes", this::changes)
                .add(OperationTable.CONTAINER_EXPORT, "GET", "/containers/{id}/export", this::export)
                .add(OperationTable.CONTAINER_DELETE, "DELETE", "/containers/{id}", this::delete);
    }

    private Containers containers() {
        return engine.containers();
    }

    // ---------------------------------------------------------------- create

    Future<?> create(ApiRequest request) {
        String name = request.query("name").orElse("");
        ContainerSpec judged = request.model(ContainerSpec.class); // the spec the authorizer judged, nothing re-read
        for (String ns : List.of("pid", "ipc")) {
            String mode = judged.host().namespaceMode(ns);
            if (mode.startsWith("container:")) {
                visible(request, mode.substring("container:".length())); // another owner's container is not there to join
            }
        }
        String networkMode = judged.host().networkMode();
        if (networkMode != null && networkMode.startsWith("container:") && networkMode.length() > "container:".length()) {
            // one that does not exist yet may (as dockerd, the start needs it); another owner's is not there
            String ref = networkMode.substring("container:".length());
            if (containers().store().find(ref) != null) {
                visible(request, ref);
            }
        }
        for (ContainerSpec.Link link : judged.netOrNone().linksOrEmpty()) {
            if (containers().store().find(link.container()) != null) {
                visible(request, link.container()); // nor to link to (its address and environment); a missing one: the engine's 400
            }
        }
        for (String from : judged.host().volumesFromOrEmpty()) {
            visible(request, io.dockgate.engine.container.VolumesFrom.parse(from).container()); // nor are its mounts there to copy
        }
        Map<String, String> labels = new LinkedHashMap<>(judged.labels() == null ? Map.of() : judged.labels());
        labels.put(ContainerSpec.OWNER_LABEL, request.access().owner());
        ContainerSpec spec = judged.withLabels(labels);
        return blocking.run(() -> containers().create(name, spec, request.access().images()))
                .recover(e -> Future.failedFuture(hideOthers(request, e)))
                .compose(c -> Responses.json(request, 201, Map.of("Id", c.id(), "Warnings", List.of())));
    }

    private static List<String> orEmpty(List<String> list) {
        return list == null ? List.of() : list;
    }

    // ---------------------------------------------------------------- lifecycle

    Future<?> start(ApiRequest request) {
        String id = request.param("id");
        return blocking.run(() -> containers().start(id))
                .compose(c -> request.response().setStatusCode(204).end(), e -> {
                    if (e instanceof EngineException ee && ee.kind() == ErrorKind.NOT_MODIFIED) {
                        return request.response().setStatusCode(304).end();
                    }
                    return Future.failedFuture(e);
                });
    }

    Future<?> stop(ApiRequest request) {
        String id = request.param("id");
        Integer timeout = request.query("t").map(t -> parseInt(t, "t")).orElse(null);
        String signal = request.query("signal").orElse(null);
        return blocking.run(() -> containers().stop(id, timeout, signal))
                .compose(stopped -> request.response().setStatusCode(stopped ? 204 : 304).end());
    }

    Future<?> kill(ApiRequest request) {
        String id = request.param("id");
        String signal = request.query("signal").orElse("KILL");
        return noContent(request, () -> containers().kill(id, signal));
    }

    Future<?> delete(ApiRequest request) {
        String id = request.param("id");
        boolean force = request.queryBool("force");
        if (request.queryBool("link")) {
            throw EngineException.invalid("removing a legacy link (docker rm --link) is not supported by dockgate: re-create the container without it");
        }
        return noContent(request, () -> containers().remove(id, force, request.queryBool("v")))
                .recover(e -> Future.failedFuture(removalWording(request, e)));
    }

    private static final Pattern ACTIVE = Pattern.compile("cannot remove container \"[^\"]*\": container is (running|paused|restarting):.*");

    /**
     * dockerd's wording before API 1.42 for a container that is still active, which clients match
     * (docker-py among them): "You cannot remove a running container ID. Stop the container ...".
     */
    private Throwable removalWording(ApiRequest request, Throwable e) {
        if (request.version().atLeast(1, 42) || !(e instanceof EngineException ee) || ee.kind() != ErrorKind.CONFLICT) {
            return e;
        }
        java.util.regex.Matcher m = ACTIVE.matcher(ee.getMessage());
        if (!m.matches()) {
            return e;
        }
        String id;
        try {
            id = containers().inspect(request.param("id")).id();
        } catch (EngineException gone) {
            return e;
        }
        return EngineException.conflict("You cannot remove a " + m.group(1) + " container " + id
                + ". Stop the container before attempting removal or force remove");
    }

    /** Runs an engine action on a worker and answers 204 No Content. */
    private Future<?> noContent(ApiRequest request, EngineAction action) {
        return blocking.run(() -> {
            action.run();
            return null;
        }).compose(v -> request.response().setStatusCode(204).end());
    }

    /** Runs an engine action on a worker and answers 200 with an empty body (resize, as dockerd does). */
    private Future<?> noContentOk(ApiRequest request, EngineAction action) {
        return blocking.run(() -> {
            action.run();
            return null;
        }).compose(v -> request.response().setStatusCode(200).end());
    }

    /** An engine call without a result. */
    @FunctionalInterface
    private interface EngineAction {
        void run() throws Exception;
    }

    Future<?> restart(ApiRequest request) {
        String id = request.param("id");
        Integer timeout = request.query("t").map(t -> parseInt(t, "t")).orElse(null);
        String signal = request.query("signal").orElse(null);
        return blocking.run(() -> containers().restart(id, timeout, signal))
                .compose(v -> request.response().setStatusCode(204).end());
    }

    /** docker container prune: every container that is not running (filters label and until). */
    Future<?> prune(ApiRequest request) {
        Filters filters = Filters.parse(request.query("filters").orElse(null), Set.of("label", "until"));
        Instant until = filters.has("until") ? ImagesApi.parseUntil(filters.get("until").get(0)) : null;
        return blocking.run(() -> {
            List<String> deleted = new ArrayList<>();
            long reclaimed = 0;
            for (ContainerRecord c : containers().list()) {
                if (c.status().state().active() || !request.access().sees(c.spec().labels())) {
                    continue;
                }
                if (filters.has("label") && !Filters.labelsMatch(filters.get("label"),
                        DockerJson.MAPPER.valueToTree(ContainerSpec.visibleLabels(c.spec().labels())))) {
                    continue;
                }
                if (until != null && !Instant.parse(c.created()).isBefore(until)) {
                    continue;
                }
                long size = sizeRw(c);
                containers().remove(c.id(), false);
                deleted.add(c.id());
                reclaimed += size;
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("ContainersDeleted", deleted.isEmpty() ? null : deleted);
            body.put("SpaceReclaimed", reclaimed);
            return body;
        }).compose(body -> Responses.json(request, 200, body));
    }

    Future<?> pause(ApiRequest request) {
        String id = request.param("id");
        return noContent(request, () -> containers().pause(id));
    }

    Future<?> unpause(ApiRequest request) {
        String id = request.param("id");
        return noContent(request, () -> containers().unpause(id));
    }

    Future<?> rename(ApiRequest request) {
        String id = request.param("id");
        String name = request.query("name").orElse("");
        if (name.isEmpty()) {
            throw EngineException.invalid("Neither old nor new names may be empty");
        }
        return noContent(request, () -> containers().rename(id, name)).recover(e -> Future.failedFuture(hideOthers(request, e)));
    }

    /**
     * A name conflict names the container that holds the name; under a binding scoped to the caller's own
     * containers, another owner's container ID is left out.
     */
    private static Throwable hideOthers(ApiRequest request, Throwable e) {
        if (request.access().ownScope() && e instanceof EngineException ee && ee.kind() == ErrorKind.CONFLICT
                && ee.getMessage().contains("is already in use by container")) {
            String message = ee.getMessage();
            return EngineException.conflict(message.substring(0, message.indexOf(" by container")) + ".");
        }
        return e;
    }

    Future<?> export(ApiRequest request) {
        String id = request.param("id");
        io.vertx.core.Context context = io.vertx.core.Vertx.currentContext();
        return blocking.run(() -> containers().inspect(id)).compose(c -> {
            request.response().setStatusCode(200).setChunked(true).putHeader("Content-Type", "application/x-tar");
            return request.response().writeHead().compose(v -> blocking.run(() -> {
                try (java.io.OutputStream out = new java.io.BufferedOutputStream(
                        new io.dockgate.gateway.stream.ResponseOutputStream(request.response(), context), 256 * 1024)) {
                    containers().export(c.id(), out);
                }
                return null;
            })).compose(v -> request.response().end(), e -> {
                org.slf4j.LoggerFactory.getLogger(ContainersApi.class).warn("request {}: export failed after the archive started: {}",
                        request.id(), e.toString());
                request.response().reset();
                return Future.succeededFuture();
            });
        });
    }

    Future<?> changes(ApiRequest request) {
        String id = request.param("id");
        return blocking.run(() -> {
            List<Map<String, Object>> body = new ArrayList<>();
            for (var c : containers().changes(id)) {
                body.add(Map.of("Path", c.path(), "Kind", c.kind()));
            }
            return body;
        }).compose(body -> Responses.json(request, 200, body));
    }

    /** docker top: host ps for the container's processes, as Docker answers (Titles and Processes). */
    Future<?> top(ApiRequest request) {
        String id = request.param("id");
        String psArgs = request.query("ps_args").orElse("-ef");
        if (!psArgs.matches("-?[a-zA-Z]+")) {
            throw EngineException.invalid("invalid ps arguments: " + psArgs);
        }
        return blocking.run(() -> {
            List<Integer> pids = containers().pids(id);
            List<String> command = new ArrayList<>(List.of("ps", psArgs));
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            p.waitFor();
            String[] lines = out.split("\n");
            List<String> titles = List.of(lines[0].trim().split("\\s+"));
            int pidColumn = titles.indexOf("PID");
            if (pidColumn < 0) {
                throw EngineException.invalid("Couldn't find PID field in ps output");
            }
            List<List<String>> processes = new ArrayList<>();
            for (int i = 1; i < lines.length; i++) {
                String[] fields = lines[i].trim().split("\\s+", titles.size());
                if (fields.length == titles.size() && pids.contains(Integer.parseInt(fields[pidColumn]))) {
                    processes.add(List.of(fields));
                }
            }
            return Map.of("Titles", titles, "Processes", processes);
        }).compose(body -> Responses.json(request, 200, body));
    }

    /** Headers go out at once (the CLI waits for them before it starts the container); the body at the end. */
    Future<?> await(ApiRequest request) {
        String id = request.param("id");
        String condition = request.query("condition").orElse("not-running");
        return blocking.run(() -> containers().waitFor(id, condition)).compose(future -> {
            HttpServerResponse response = request.response();
            response.setStatusCode(200).setChunked(true).putHeader("Content-Type", Responses.JSON);
            return response.writeHead().compose(v -> Future.fromCompletionStage(future))
                    .compose(c -> {
                        Map<String, Object> body = new LinkedHashMap<>();
                        body.put("StatusCode", c.status().exitCode());
                        body.put("Error", c.status().error() == null || c.status().error().isEmpty() ? null
                                : Map.of("Message", c.status().error()));
                        try {
                            return response.end(Buffer.buffer(Responses.MAPPER.writeValueAsBytes(body)).appendByte((byte) '\n'));
                        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                            return Future.failedFuture(e);
                        }
                    });
        });
    }

    // ---------------------------------------------------------------- inspect, list

    Future<?> inspect(ApiRequest request) {
        String id = request.param("id");
        boolean size = request.queryBool("size");
        return blocking.run(() -> {
            ContainerRecord c = containers().inspect(id);
            Map<String, Object> json = inspectJson(c, size, request.version());
            if (!request.access().may("container.inspect.env")) {
                @SuppressWarnings("unchecked")
                Map<String, Object> config = (Map<String, Object>) json.get("Config");
                config.put("Env", c.spec().env() == null ? null
                        : c.spec().env().stream().map(e -> e.contains("=") ? e.substring(0, e.indexOf('=') + 1) + "<redacted>" : e).toList());
            }
            return json;
        }).compose(body -> Responses.json(request, 200, body));
    }

    private Map<String, Object> inspectJson(ContainerRecord c, boolean size, io.dockgate.gateway.request.ApiVersion version)
            throws java.io.IOException {
        ContainerRecord.Status s = c.status();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Id", c.id());
        m.put("Created", c.created());
        m.put("Path", c.path());
        m.put("Args", c.args());
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("Status", s.state().wire());
        state.put("Running", s.state() == ContainerState.RUNNING || s.state() == ContainerState.PAUSED);
        state.put("Paused", s.state() == ContainerState.PAUSED);
        state.put("Restarting", s.state() == ContainerState.RESTARTING);
        state.put("OOMKilled", s.oomKilled());
        state.put("Dead", s.state() == ContainerState.DEAD);
        state.put("Pid", s.pid());
        state.put("ExitCode", s.exitCode());
        state.put("Error", s.error() == null ? "" : s.error());
        state.put("StartedAt", s.startedAt());
        state.put("FinishedAt", s.finishedAt());
        io.dockgate.engine.container.HealthMonitor.View health = containers().health(c.id());
        if (health != null) {
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("Status", health.status());
            h.put("FailingStreak", health.failingStreak());
            List<Map<String, Object>> log = new ArrayList<>();
            for (io.dockgate.engine.container.HealthMonitor.Result r : health.log()) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("Start", r.start());
                e.put("End", r.end());
                e.put("ExitCode", r.exitCode());
                e.put("Output", r.output());
                log.add(e);
            }
            h.put("Log", log);
            state.put("Health", h);
        }
        m.put("State", state);
        m.put("Image", c.imageId());
        String mode = c.spec().host().networkMode();
        // a container sharing another's network namespace uses that one's /etc files (as dockerd shows them)
        ContainerRecord shared = mode != null && mode.startsWith("container:")
                ? containers().store().find(mode.substring("container:".length())) : null;
        java.nio.file.Path dir = containers().store().directory(shared != null ? shared.id() : c.id());
        m.put("ResolvConfPath", dir.resolve("etc/resolv.conf").toString());
        m.put("HostnamePath", dir.resolve("etc/hostname").toString());
        m.put("HostsPath", dir.resolve("etc/hosts").toString());
        m.put("LogPath", c.spec().host().logOrDefault().keepsNothing() ? "" : c.logPath());
        m.put("Name", c.name());
        m.put("RestartCount", c.restartCount());
        m.put("Driver", "overlay2");
        m.put("Platform", "linux");
        m.put("MountLabel", "");
        m.put("ProcessLabel", "");
        m.put("AppArmorProfile", "");
        List<String> execIds = containers().execs().idsOf(c.id());
        m.put("ExecIDs", execIds.isEmpty() ? null : execIds);
        ContainerSpec.Host h = c.spec().host();
        Map<String, Object> hc = new LinkedHashMap<>();
        hc.put("NetworkMode", h.networkMode());
        hc.put("Links", ContainerNetworks.hostConfigLinks(c, containers().store()));
        hc.put("Privileged", h.privileged());
        hc.put("ReadonlyRootfs", h.readonlyRootfs());
        hc.put("CapAdd", h.capAdd());
        hc.put("CapDrop", h.capDrop());
        hc.put("Tmpfs", h.tmpfs());
        hc.put("Memory", h.memory());
        hc.put("MemorySwap", h.memorySwap());
        hc.put("Binds", h.binds() == null || h.binds().isEmpty() ? null : h.binds());
        hc.put("NanoCpus", h.nanoCpus());
        hc.put("CpuShares", h.cpuShares());
        hc.put("CpuQuota", h.cpuQuota());
        hc.put("CpuPeriod", h.cpuPeriod());
        hc.put("PidsLimit", h.pidsLimit());
        hc.put("CpusetCpus", h.cpusetCpus());
        hc.put("AutoRemove", h.autoRemove());
        hc.put("RestartPolicy", Map.of("Name", h.restartPolicy().name(), "MaximumRetryCount", h.restartPolicy().maximumRetryCount()));
        Map<String, String> logOpts = new LinkedHashMap<>();
        if (h.logOrDefault().maxSize() > 0) {
            logOpts.put("max-size", Long.toString(h.logOrDefault().maxSize()));
        }
        if (h.logOrDefault().maxFile() > 1) {
            logOpts.put("max-file", Integer.toString(h.logOrDefault().maxFile()));
        }
        hc.put("LogConfig", Map.of("Type", h.logOrDefault().typeOrDefault(), "Config", logOpts));
        hc.put("ShmSize", h.shmSizeOrDefault());
        hc.put("OomScoreAdj", h.oomScoreAdj());
        hc.put("OomKillDisable", h.oomKillDisable());
        hc.put("MemorySwappiness", h.memorySwappiness());
        hc.put("MemoryReservation", h.memoryReservation());
        hc.put("GroupAdd", h.groupAddOrEmpty().isEmpty() ? null : h.groupAddOrEmpty());
        hc.put("Sysctls", h.sysctlsOrEmpty().isEmpty() ? null : h.sysctlsOrEmpty());
        hc.put("PidMode", h.pidMode() == null ? "" : h.pidMode());
        hc.put("IpcMode", h.ipcMode() == null || h.ipcMode().isEmpty() ? "private" : h.ipcMode());
        hc.put("UTSMode", h.utsMode() == null ? "" : h.utsMode());
        hc.put("Devices", h.devicesOrEmpty().stream().map(d -> Map.of("PathOnHost", d.pathOnHost(), "PathInContainer",
                d.pathInContainer(), "CgroupPermissions", d.permissions())).toList());
        hc.put("DeviceCgroupRules", h.deviceCgroupRulesOrEmpty().isEmpty() ? null : h.deviceCgroupRulesOrEmpty());
        hc.put("Init", h.init() ? Boolean.TRUE : null);
        hc.put("VolumesFrom", h.volumesFromOrEmpty().isEmpty() ? null : h.volumesFromOrEmpty());
        hc.put("CgroupParent", h.cgroupParent() == null ? "" : h.cgroupParent());
        hc.put("Isolation", "");
        hc.put("Ulimits", h.ulimitsOrEmpty().stream().map(u -> Map.of("Name", u.name(), "Soft", u.soft(), "Hard", u.hard())).toList());
        hc.put("SecurityOpt", h.noNewPrivileges() ? List.of("no-new-privileges") : null);
        hc.put("Mounts", h.mountsOrEmpty().stream().map(mt -> Map.of("Type", mt.type(), "Source", mt.source(), "Target", mt.target(),
                "ReadOnly", mt.readOnly())).toList());
        hc.put("Runtime", "runc");
        hc.put("PortBindings", ContainerNetworks.portBindings(c.spec()));
        hc.put("PublishAllPorts", c.spec().netOrNone().publishAll());
        ContainerSpec.Resolution res = c.spec().netOrNone().resolutionOrNone();
        hc.put("Dns", res.dns());
        hc.put("DnsOptions", res.options());
        hc.put("DnsSearch", res.search());
        hc.put("ExtraHosts", res.extraHosts().isEmpty() ? null : res.extraHosts());
        m.put("HostConfig", hc);
        m.put("GraphDriver", Map.of("Name", "overlay2", "Data", Map.of()));
        m.put("Mounts", mounts(c));
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("Hostname", c.spec().hostname());
        config.put("Domainname", "");
        config.put("User", c.spec().user());
        ContainerSpec.Shown shown = c.spec().shownOrNone();
        config.put("AttachStdin", shown.attachStdin());
        config.put("AttachStdout", shown.attachStdout());
        config.put("AttachStderr", shown.attachStderr());
        config.put("ExposedPorts", ContainerNetworks.exposedPorts(c.spec()));
        config.put("Tty", c.spec().tty());
        config.put("OpenStdin", c.spec().openStdin());
        config.put("StdinOnce", c.spec().stdinOnce());
        config.put("Env", c.spec().env());
        config.put("Cmd", c.spec().cmd());
        config.put("Image", c.imageRef());
        Map<String, Object> volumes = new LinkedHashMap<>();
        (shown.volumes() == null ? List.<String>of() : shown.volumes()).forEach(v -> volumes.put(v, Map.of()));
        config.put("Volumes", volumes.isEmpty() ? null : volumes);
        config.put("WorkingDir", c.spec().workingDir());
        config.put("Entrypoint", c.spec().entrypoint().isEmpty() ? null : c.spec().entrypoint());
        config.put("OnBuild", null);
        config.put("Labels", ContainerSpec.visibleLabels(c.spec().labels()));
        if (c.spec().stopSignal() != null && !c.spec().stopSignal().isEmpty()) {
            config.put("StopSignal", c.spec().stopSignal());
        }
        if (c.spec().stopTimeout() != null) {
            config.put("StopTimeout", c.spec().stopTimeout());
        }
        if (c.spec().healthcheck() != null) {
            config.put("Healthcheck", healthcheck(c.spec().healthcheck()));
        }
        m.put("Config", config);
        m.put("NetworkSettings", ContainerNetworks.settings(c, engine.networks(), version, containers().store()));
        if (size) {
            m.put("SizeRw", sizeRw(c));
            m.put("SizeRootFs", sizeRw(c) + imageSize(c));
        }
        return m;
    }

    /** The Mounts of inspect and list: bind mounts and volumes with their host paths. */
    private List<Map<String, Object>> mounts(ContainerRecord c) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (ContainerSpec.Mount mt : c.spec().host().mountsOrEmpty()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("Type", mt.type());
            boolean volume = mt.type().equals(ContainerSpec.Mount.VOLUME);
            if (volume) {
                m.put("Name", mt.source());
                var v = engine.volumes().find(mt.source());
                m.put("Source", v == null ? "" : v.mountpoint());
                m.put("Driver", "local");
            } else {
                m.put("Source", mt.source());
            }
            m.put("Destination", mt.target());
            m.put("Mode", mt.readOnly() ? "ro" : "");
            m.put("RW", !mt.readOnly());
            m.put("Propagation", volume ? "" : "rprivate");
            out.add(m);
        }
        return out;
    }

    private long sizeRw(ContainerRecord c) throws java.io.IOException {
        return containers().writableSize(c.id());
    }

    private long imageSize(ContainerRecord c) {
        try {
            return engine.images().size(engine.images().resolve(c.imageId()));
        } catch (EngineException e) {
            return 0;
        }
    }

    /** A container the caller may see, or 404 as if it did not exist. */
    private ContainerRecord visible(ApiRequest request, String ref) {
        ContainerRecord c = containers().inspect(ref);
        if (!request.access().sees(c.spec().labels())) {
            throw EngineException.notFound("No such container: " + ref);
        }
        return c;
    }

    Future<?> list(ApiRequest request) {
        boolean all = request.queryBool("all");
        boolean size = request.queryBool("size");
        int limit = request.query("limit").map(l -> parseInt(l, "limit")).orElse(-1);
        Filters filters = Filters.parse(request.query("filters").orElse(null), LIST_FILTERS);
        return blocking.run(() -> {
            List<ContainerRecord> records = new ArrayList<>(containers().list());
            records.sort(Comparator.comparing(ContainerRecord::created).reversed());
            Instant before = filters.has("before") ? Instant.parse(visible(request, filters.get("before").get(0)).created()) : null;
            Instant since = filters.has("since") ? Instant.parse(visible(request, filters.get("since").get(0)).created()) : null;
            List<Map<String, Object>> result = new ArrayList<>();
            for (ContainerRecord c : records) {
                ContainerState st = c.status().state();
                boolean showAll = all || limit > 0 || filters.has("status") || filters.has("exited");
                if (!showAll && !st.active() || !request.access().sees(c.spec().labels())) {
                    continue;
                }
                if (!matches(c, filters, before, since, request.access().images())) {
                    continue;
                }
                result.add(summary(c, size));
                if (limit > 0 && result.size() >= limit) {
                    break;
                }
            }
            return result;
        }).compose(body -> Responses.json(request, 200, body));
    }

    private boolean matches(ContainerRecord c, Filters f, Instant before, Instant since, io.dockgate.engine.image.ImageNamespace images) {
        for (String h : f.has("health") ? f.get("health") : List.<String>of()) {
            if (!Set.of("starting", "healthy", "unhealthy", "none").contains(h)) {
                throw EngineException.invalid("Unrecognised filter value for health: " + h);
            }
        }
        if (f.has("id") && f.get("id").stream().noneMatch(c.id()::startsWith)) {
            return false;
        }
        if (f.has("name") && f.get("name").stream().noneMatch(n -> Pattern.compile(n).matcher(c.name()).find())) {
            return false;
        }
        if (f.has("label")) {
            JsonNode labels = DockerJson.MAPPER.valueToTree(ContainerSpec.visibleLabels(c.spec().labels()));
            if (!Filters.labelsMatch(f.get("label"), labels)) {
                return false;
            }
        }
        if (f.has("owner") && !f.get("owner").contains(c.spec().labels() == null ? "" : c.spec().labels().get(ContainerSpec.OWNER_LABEL))) {
            return false; // dockgate's own filter: who created it (an owner key, tls:NAME or unix:NAME)
        }
        if (f.has("status") && !f.get("status").contains(c.status().state().wire())) {
            return false;
        }
        if (f.has("health") && !f.get("health").contains(healthStatus(c))) {
            return false;
        }
        if (f.has("exited") && (c.status().state() != ContainerState.EXITED
                || f.get("exited").stream().noneMatch(e -> e.equals(Integer.toString(c.status().exitCode()))))) {
            return false;
        }
        if (f.has("ancestor")) {
            boolean any = false;
            for (String a : f.get("ancestor")) {
                try {
                    Image image = engine.images().resolve(images, a);
                    any |= image.id().toString().equals(c.imageId());
                } catch (EngineException e) {
                    // unknown image: no match
                }
            }
            if (!any) {
                return false;
            }
        }
        Instant created = Instant.parse(c.created());
        return (before == null || created.isBefore(before)) && (since == null || created.isAfter(since));
    }

    /** The containers part of docker system df (blocking): every container with its sizes. */
    List<Map<String, Object>> diskUsage(io.dockgate.gateway.authz.Access access) throws java.io.IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        for (ContainerRecord c : containers().list()) {
            if (!access.sees(c.spec().labels())) {
                continue;
            }
            out.add(summary(c, true));
        }
        return out;
    }

    private Map<String, Object> summary(ContainerRecord c, boolean size) throws java.io.IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Id", c.id());
        m.put("Names", List.of(c.name()));
        m.put("Image", c.imageRef());
        m.put("ImageID", c.imageId());
        List<String> command = new ArrayList<>();
        command.add(c.path());
        command.addAll(c.args());
        m.put("Command", String.join(" ", command));
        m.put("Created", Instant.parse(c.created()).getEpochSecond());
        m.put("Ports", ContainerNetworks.listPorts(c));
        m.put("Labels", ContainerSpec.visibleLabels(c.spec().labels()));
        m.put("State", c.status().state().wire());
        m.put("Status", statusText(c));
        m.put("HostConfig", Map.of("NetworkMode", c.spec().host().networkMode()));
        m.put("NetworkSettings", Map.of("Networks", ContainerNetworks.networks(c, engine.networks(),
                io.dockgate.gateway.request.ApiVersion.MAX, false, containers().store())));
        m.put("Mounts", mounts(c));
        if (size) {
            long rw = sizeRw(c);
            m.put("SizeRw", rw);
            m.put("SizeRootFs", rw + imageSize(c));
        }
        return m;
    }

    /** Config.Healthcheck as Docker shows it: the test, and the settings that are not zero. */
    static Map<String, Object> healthcheck(io.dockgate.engine.container.Healthcheck h) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("Test", h.test());
        if (h.interval() != 0) {
            out.put("Interval", h.interval());
        }
        if (h.timeout() != 0) {
            out.put("Timeout", h.timeout());
        }
        if (h.startPeriod() != 0) {
            out.put("StartPeriod", h.startPeriod());
        }
        if (h.startInterval() != 0) {
            out.put("StartInterval", h.startInterval());
        }
        if (h.retries() != 0) {
            out.put("Retries", h.retries());
        }
        return out;
    }

    /** The health status a running container shows (starting, healthy, unhealthy), "none" without a check. */
    private String healthStatus(ContainerRecord c) {
        io.dockgate.engine.container.HealthMonitor.View h = c.status().state().hasProcess() ? containers().health(c.id()) : null;
        return h == null ? "none" : h.status();
    }

    private String statusText(ContainerRecord c) {
        String health = healthStatus(c);
        String text = statusText(c, health);
        return c.status().state() == ContainerState.RUNNING && !health.equals("none")
                ? text + (health.equals("starting") ? " (health: starting)" : " (" + health + ")") : text;
    }

    static String statusText(ContainerRecord c, String health) {
        ContainerRecord.Status s = c.status();
        Instant now = Instant.now();
        return switch (s.state()) {
            case CREATED -> "Created";
            case RUNNING -> "Up " + human(Duration.between(Instant.parse(s.startedAt()), now));
            case PAUSED -> "Up " + human(Duration.between(Instant.parse(s.startedAt()), now)) + " (Paused)";
            case RESTARTING -> "Restarting (" + s.exitCode() + ") " + human(Duration.between(Instant.parse(s.finishedAt()), now)) + " ago";
            case EXITED -> "Exited (" + s.exitCode() + ") " + human(Duration.between(Instant.parse(s.finishedAt()), now)) + " ago";
            case DEAD -> "Dead";
            case REMOVING -> "Removal In Progress";
        };
    }

    /** Docker's HumanDuration wording. */
    static String human(Duration d) {
        long seconds = Math.max(0, d.getSeconds());
        if (seconds < 1) {
            return "Less than a second";
        }
        if (seconds == 1) {
            return "1 second";
        }
        if (seconds < 60) {
            return seconds + " seconds";
        }
        long minutes = seconds / 60;
        if (minutes == 1) {
            return "About a minute";
        }
        if (minutes < 60) {
            return minutes + " minutes";
        }
        long hours = Math.round(minutes / 60.0);
        if (hours == 1) {
            return "About an hour";
        }
        if (hours < 48) {
            return hours + " hours";
        }
        if (hours < 24 * 7 * 2) {
            return hours / 24 + " days";
        }
        if (hours < 24 * 30 * 2) {
            return hours / 24 / 7 + " weeks";
        }
        if (hours < 24 * 365 * 2) {
            return hours / 24 / 30 + " months";
        }
        return hours / 24 / 365 + " years";
    }

    // ---------------------------------------------------------------- logs

    Future<?> logs(ApiRequest request) {
        String id = request.param("id");
        boolean stdout = request.queryBool("stdout");
        boolean stderr = request.queryBool("stderr");
        if (!stdout && !stderr) {
            throw EngineException.invalid("Bad parameters: you must choose at least one stream");
        }
        boolean follow = request.queryBool("follow");
        boolean timestamps = request.queryBool("timestamps");
        String tailText = request.query("tail").orElse("all");
        int tail = tailText.equals("all") || tailText.isEmpty() ? -1 : parseInt(tailText, "tail");
        Instant since = request.query("since").filter(x -> !x.isEmpty() && !x.equals("0")).map(ContainersApi::time).orElse(null);
        Instant until = request.query("until").filter(x -> !x.isEmpty() && !x.equals("0")).map(ContainersApi::time).orElse(null);
        return blocking.run(() -> containers().inspect(id)).compose(c -> {
            if (c.spec().host().logOrDefault().keepsNothing()) {
                throw EngineException.invalid("configured logging driver does not support reading");
            }
            HttpServerResponse response = request.response();
            response.setStatusCode(200).setChunked(true).putHeader("Content-Type",
                    c.spec().tty() ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream");
            Promise<Void> closed = Promise.promise();
            response.closeHandler(v -> closed.tryComplete());
            LogStreamer.Options options = new LogStreamer.Options(stdout, stderr, follow, timestamps, tail, since, until);
            Future<Void> head = follow ? response.writeHead() : Future.succeededFuture(); // a follower gets the headers at once
            return head.compose(v -> new LogStreamer(blocking, containers()).stream(c, options, response, closed.future()))
                    .compose(v -> response.end(), e -> {
                        response.reset();
                        return Future.succeededFuture();
                    });
        });
    }

    /**
     * docker attach / docker run in the foreground: the connection is hijacked (101 UPGRADED) and joined
     * to conmon's attach socket: stdin in, stdout and stderr out, from the moment of attaching (logs=1
     * first sends what the log already holds). A container that is not running is attached when it
     * starts, so docker run loses no output.
     */
    Future<?> attach(ApiRequest request) {
        String id = request.param("id");
        boolean stdin = request.queryBool("stdin");
        boolean stdout = request.queryBool("stdout");
        boolean stderr = request.queryBool("stderr");
        boolean stream = request.queryBool("stream");
        boolean logs = request.queryBool("logs");
        DetachKeys keys = DetachKeys.parse(request.query("detachKeys").orElse(null));
        return blocking.run(() -> {
            ContainerRecord c = containers().inspect(id);
            Buffer preface = Buffer.buffer();
            if (logs) {
                for (LogReader.Entry e : LogReader.readAll(Path.of(c.logPath()), !c.status().state().active())) {
                    if (e.stderr() ? stderr : stdout) {
                        byte[] text = e.text().getBytes(StandardCharsets.UTF_8);
                        preface.appendBuffer(AttachBridge.frame(c.spec().tty(), e.stderr() ? 2 : 1, text, 0, text.length));
                    }
                }
            }
            return Map.entry(c, preface);
        }).compose(found -> {
            ContainerRecord c = found.getKey();
            if (!stream) {
                return AttachedStream.logsOnly(request, AttachedStream.contentType(c.spec().tty()), found.getValue());
            }
            boolean withStdin = stdin && c.spec().openStdin();
            AttachedStream.Options options = new AttachedStream.Options(c.spec().tty(), withStdin,
                    c.spec().tty() ? keys : null, found.getValue());
            return AttachedStream.run(request, blocking, options,
                    sink -> containers().attach(c.id(), new Attachment.Streams(withStdin, stdout, stderr), sink));
        });
    }

    /** docker run -t / docker attach: the terminal's size. */
    Future<?> resize(ApiRequest request) {
        String id = request.param("id");
        int h = parseInt(request.query("h").orElse("0"), "h");
        int w = parseInt(request.query("w").orElse("0"), "w");
        return noContentOk(request, () -> containers().resize(id, h, w));
    }

    static Instant time(String text) {
        try {
            if (text.matches("\\d+(\\.\\d+)?")) {
                double seconds = Double.parseDouble(text);
                return Instant.ofEpochSecond((long) seconds, (long) ((seconds % 1) * 1e9));
            }
            return Instant.parse(text);
        } catch (RuntimeException e) {
            throw EngineException.invalid("invalid time value: " + text);
        }
    }

    static int parseInt(String text, String name) {
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw EngineException.invalid("invalid value for " + name + ": " + text);
        }
    }
}
