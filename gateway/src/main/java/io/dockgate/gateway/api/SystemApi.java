package io.dockgate.gateway.api;

import io.dockgate.engine.Engine;
import io.dockgate.engine.EngineVersion;
import io.dockgate.engine.HostFacts;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.http.OperationCatalog;
import io.dockgate.gateway.http.Responses;
import io.dockgate.gateway.request.ApiVersion;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/** {@code /_ping}, {@code /version} and {@code /info}: what every docker CLI command asks first. */
public final class SystemApi {
    private final Engine engine;
    private final Supplier<List<String>> warnings;

    /**
     * @param warnings daemon-level warnings shown at the end of {@code docker info} (insecure listeners,
     *                 no authorization policy, ...)
     */
    public SystemApi(Engine engine, Supplier<List<String>> warnings) {
        this.engine = engine;
        this.warnings = warnings;
    }

    public void register(OperationCatalog catalog) {
        catalog.add(OperationTable.SYSTEM_PING, Set.of("GET", "HEAD"), "/_ping", this::ping)
                .add(OperationTable.SYSTEM_VERSION, "GET", "/version", this::version)
                .add(OperationTable.SYSTEM_INFO, "GET", "/info", this::info);
    }

    Future<?> ping(ApiRequest request) {
        request.response()
                .putHeader("Cache-Control", "no-cache, no-store, must-revalidate")
                .putHeader("Pragma", "no-cache")
                .putHeader("Swarm", "inactive");
        if (request.method() == HttpMethod.HEAD) {
            return request.response().setStatusCode(200)
                    .putHeader("Content-Type", "text/plain; charset=utf-8")
                    .putHeader("Content-Length", "0")
                    .end();
        }
        return Responses.text(request, 200, "OK");
    }

    Future<?> version(ApiRequest request) {
        EngineVersion v = engine.version();
        HostFacts host = engine.host();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("ApiVersion", ApiVersion.MAX.toString());
        details.put("Arch", host.goArch());
        details.put("BuildTime", v.buildTime());
        details.put("Experimental", "false");
        details.put("GitCommit", v.gitCommit());
        details.put("GoVersion", javaVersion());
        details.put("KernelVersion", host.kernelVersion());
        details.put("MinAPIVersion", ApiVersion.MIN.toString());
        details.put("Os", "linux");
        List<Map<String, Object>> components = new ArrayList<>();
        components.add(Map.of("Name", "Engine", "Version", v.dockerCompatible(), "Details", details));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("Platform", Map.of("Name", "dockgate " + v.version()));
        body.put("Components", components);
        body.put("Version", v.dockerCompatible());
        body.put("ApiVersion", ApiVersion.MAX.toString());
        body.put("MinAPIVersion", ApiVersion.MIN.toString());
        body.put("GitCommit", v.gitCommit());
        body.put("GoVersion", javaVersion());
        body.put("Os", "linux");
        body.put("Arch", host.goArch());
        body.put("KernelVersion", host.kernelVersion());
        body.put("BuildTime", v.buildTime());
        return Responses.json(request, 200, body);
    }

    Future<?> info(ApiRequest request) {
        HostFacts host = engine.host();
        Engine.SystemCounts counts = engine.counts();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("ID", engine.id());
        body.put("Containers", counts.containers());
        body.put("ContainersRunning", counts.running());
        body.put("ContainersPaused", counts.paused());
        body.put("ContainersStopped", counts.stopped());
        body.put("Images", counts.images());
        body.put("Driver", "overlay2");
        body.put("DriverStatus", List.of(List.of("Backing Filesystem", engine.backingFilesystem())));
        body.put("Plugins", Map.of("Volume", List.of("local"), "Network", List.of("host", "none"),
                "Authorization", List.of(), "Log", List.of("k8s-file")));
        body.put("MemoryLimit", true);
        body.put("SwapLimit", true);
        body.put("CpuCfsPeriod", true);
        body.put("CpuCfsQuota", true);
        body.put("CPUShares", true);
        body.put("CPUSet", true);
        body.put("PidsLimit", true);
        body.put("OomKillDisable", false);
        body.put("IPv4Forwarding", false);
        body.put("Debug", false);
        body.put("NFd", openFileDescriptors());
        body.put("NGoroutines", Thread.activeCount());
        body.put("SystemTime", Instant.now().toString());
        body.put("LoggingDriver", "k8s-file");
        body.put("CgroupDriver", "cgroupfs");
        body.put("CgroupVersion", host.cgroupVersion());
        body.put("NEventsListener", 0);
        body.put("KernelVersion", host.kernelVersion());
        body.put("OperatingSystem", host.operatingSystem());
        body.put("OSVersion", host.osVersion());
        body.put("OSType", "linux");
        body.put("Architecture", host.architecture());
        body.put("IndexServerAddress", "https://index.docker.io/v1/");
        body.put("RegistryConfig", Map.of("IndexConfigs", Map.of(), "InsecureRegistryCIDRs", List.of("127.0.0.0/8"),
                "Mirrors", List.of()));
        body.put("NCPU", host.cpus());
        body.put("MemTotal", host.memoryBytes());
        body.put("DockerRootDir", engine.dataRoot().toString());
        body.put("HttpProxy", "");
        body.put("HttpsProxy", "");
        body.put("NoProxy", "");
        body.put("Name", host.hostname());
        body.put("Labels", List.of());
        body.put("ExperimentalBuild", false);
        body.put("ServerVersion", engine.version().dockerCompatible());
        body.put("Runtimes", Map.of("runc", Map.of("path", "runc")));
        body.put("DefaultRuntime", "runc");
        body.put("Swarm", Map.of("NodeID", "", "NodeAddr", "", "LocalNodeState", "inactive",
                "ControlAvailable", false, "Error", ""));
        body.put("LiveRestoreEnabled", true);
        body.put("Isolation", "");
        body.put("InitBinary", "");
        body.put("ContainerdCommit", Map.of("ID", "embedded"));
        body.put("RuncCommit", Map.of("ID", ""));
        body.put("InitCommit", Map.of("ID", ""));
        body.put("SecurityOptions", List.of("name=seccomp,profile=builtin"));
        body.put("Warnings", warnings.get());
        return Responses.json(request, 200, body);
    }

    private static String javaVersion() {
        return "java" + Runtime.version();
    }

    private static int openFileDescriptors() {
        String[] fds = new java.io.File("/proc/self/fd").list();
        return fds == null ? 0 : fds.length;
    }
}
