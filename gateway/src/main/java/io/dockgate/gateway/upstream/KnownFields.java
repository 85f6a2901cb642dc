package io.dockgate.gateway.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.EngineException;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The fields of Docker's bodies (API 1.50) that dockgate knows, judges or refuses. The embedded engine
 * ignores any other, as dockerd ignores names it does not know; in upstream mode the engine may know a
 * name dockgate does not, and would honour it unjudged: such a body is refused, naming the field, unless
 * its value asks for nothing (null, false, zero, empty: docker-java sends PortSpecs so).
 */
final class KnownFields {
    private static final Set<String> CREATE = lower(
            "Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr", "ExposedPorts", "Tty", "OpenStdin",
            "StdinOnce", "Env", "Cmd", "Healthcheck", "ArgsEscaped", "Image", "Volumes", "WorkingDir", "Entrypoint",
            "NetworkDisabled", "MacAddress", "OnBuild", "Labels", "StopSignal", "StopTimeout", "Shell", "HostConfig",
            "NetworkingConfig");
    private static final Set<String> RESOURCES = lower(
            "CpuShares", "Memory", "NanoCpus", "CgroupParent", "BlkioWeight", "BlkioWeightDevice", "BlkioDeviceReadBps",
            "BlkioDeviceWriteBps", "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps", "CpuPeriod", "CpuQuota", "CpuRealtimePeriod",
            "CpuRealtimeRuntime", "CpusetCpus", "CpusetMems", "Devices", "DeviceCgroupRules", "DeviceRequests", "KernelMemory",
            "KernelMemoryTCP", "MemoryReservation", "MemorySwap", "MemorySwappiness", "OomKillDisable", "PidsLimit", "Ulimits",
            "CpuCount", "CpuPercent", "IOMaximumIOps", "IOMaximumBandwidth");
    private static final Set<String> HOST_CONFIG = union(RESOURCES, lower(
            "Binds", "ContainerIDFile", "LogConfig", "NetworkMode", "PortBindings", "RestartPolicy", "AutoRemove", "VolumeDriver",
            "VolumesFrom", "ConsoleSize", "Annotations", "CapAdd", "CapDrop", "CgroupnsMode", "Dns", "DnsOptions", "DnsSearch",
            "ExtraHosts", "GroupAdd", "IpcMode", "Cgroup", "Links", "OomScoreAdj", "PidMode", "Privileged", "PublishAllPorts",
            "ReadonlyRootfs", "SecurityOpt", "StorageOpt", "Tmpfs", "UTSMode", "UsernsMode", "ShmSize", "Sysctls", "Runtime",
            "Isolation", "Mounts", "MaskedPaths", "ReadonlyPaths", "Init"));
    private static final Set<String> UPDATE = union(RESOURCES, lower("RestartPolicy"));
    private static final Set<String> EXEC = lower("AttachStdin", "AttachStdout", "AttachStderr", "ConsoleSize", "DetachKeys",
            "Tty", "Env", "Cmd", "Privileged", "User", "WorkingDir", "Detach",
            "containerId"); // docker-java names the container in the body too; engines read it from the path

    private KnownFields() {
    }

    private static Set<String> lower(String... names) {
        return Stream.of(names).map(n -> n.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        return Stream.concat(a.stream(), b.stream()).collect(Collectors.toUnmodifiableSet());
    }

    /** Refuses a body of the operation with a field dockgate does not know (the operations it knows the schema of). */
    static void check(String operation, JsonNode body) {
        switch (operation) {
            case "container.create" -> {
                only(body, CREATE, "");
                JsonNode host = field(body, "HostConfig");
                if (host != null) {
                    only(host, HOST_CONFIG, "HostConfig.");
                }
            }
            case "container.update" -> only(body, UPDATE, "");
            case "container.exec" -> only(body, EXEC, "");
            default -> {
            }
        }
    }

    private static JsonNode field(JsonNode object, String name) {
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            String n = it.next();
            if (n.equalsIgnoreCase(name)) {
                return object.get(n).isObject() ? object.get(n) : null;
            }
        }
        return null;
    }

    private static void only(JsonNode object, Set<String> known, String prefix) {
        if (object == null || !object.isObject()) {
            return;
        }
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!known.contains(name.toLowerCase(Locale.ROOT)) && io.dockgate.gateway.request.DockerJson.isSet(object.get(name))) {
                throw EngineException.invalid(prefix + name + " is not a field dockgate knows: refused in upstream mode, where the"
                        + " engine might honour it unjudged");
            }
        }
    }
}
