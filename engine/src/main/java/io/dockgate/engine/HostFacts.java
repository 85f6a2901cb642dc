package io.dockgate.engine;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Facts about the machine that {@code /info} and {@code /version} report, read once at start from
 * /proc and /etc (cheap, and none of them changes while the daemon runs).
 */
public record HostFacts(int cpus, long memoryBytes, String kernelVersion, String operatingSystem, String osVersion,
                        String architecture, String hostname, String cgroupVersion) {

    public static HostFacts read() {
        return new HostFacts(Runtime.getRuntime().availableProcessors(), memTotal(), kernel(),
                osRelease("PRETTY_NAME").orElse("Linux"), osRelease("VERSION_ID").orElse(""),
                readArchitecture(), readHostname(), readCgroupVersion());
    }

    /** The type of the filesystem holding path: the longest mount point in /proc/self/mounts that contains it. */
    public static String filesystemType(Path path) {
        String best = "";
        String type = "unknown";
        try {
            Path real = path.toRealPath();
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                String[] f = line.split(" ");
                if (f.length < 3) {
                    continue;
                }
                String mountPoint = f[1].replace("\\040", " ");
                if (real.startsWith(mountPoint) && mountPoint.length() >= best.length()) {
                    best = mountPoint;
                    type = f[2];
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown
        }
        return type;
    }

    private static long memTotal() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    String[] parts = line.trim().split("\\s+");
                    return Long.parseLong(parts[1]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return Runtime.getRuntime().maxMemory();
    }

    private static String kernel() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        } catch (IOException e) {
            return System.getProperty("os.version");
        }
    }

    private static Optional<String> osRelease(String key) {
        for (Path p : List.of(Path.of("/etc/os-release"), Path.of("/usr/lib/os-release"))) {
            try {
                for (String line : Files.readAllLines(p)) {
                    if (line.startsWith(key + "=")) {
                        String value = line.substring(key.length() + 1).trim();
                        if (value.length() >= 2 && (value.startsWith("\"") || value.startsWith("'"))) {
                            value = value.substring(1, value.length() - 1);
                        }
                        return Optional.of(value);
                    }
                }
            } catch (IOException e) {
                // try the next file
            }
        }
        return Optional.empty();
    }

    private static String readArchitecture() {
        String arch = System.getProperty("os.arch");
        return switch (arch) {
            case "amd64" -> "x86_64";
            case "aarch64" -> "aarch64";
            default -> arch;
        };
    }

    /** The architecture in Go's spelling, as /version's Arch field carries it. */
    public String goArch() {
        return switch (architecture) {
            case "x86_64" -> "amd64";
            case "aarch64" -> "arm64";
            default -> architecture;
        };
    }

    private static String readHostname() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (IOException e) {
            try {
                return InetAddress.getLocalHost().getHostName();
            } catch (IOException e2) {
                return "localhost";
            }
        }
    }

    private static String readCgroupVersion() {
        return Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers")) ? "2" : "1";
    }
}
