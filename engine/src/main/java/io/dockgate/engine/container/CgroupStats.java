package io.dockgate.engine.container;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Resource usage of a container read from its cgroup v1 controllers ({@code <controller>/dockgate/<id>}, or the CgroupParent's):
 * memory, cpuacct and cpu (throttling), pids, blkio; and the host's CPU time from /proc/stat, which
 * clients need to turn CPU time into a percentage. A read costs a handful of small file reads.
 */
public final class CgroupStats {
    private static final Path ROOT = Path.of("/sys/fs/cgroup");
    private static final long USER_HZ = 100;

    /** One blkio counter: device, operation, value. */
    public record Blkio(int major, int minor, String op, long value) {
    }

    /** One reading, in the units Docker's stats API uses (bytes, nanoseconds). */
    public record Sample(Instant read, long memoryUsage, long memoryMaxUsage, long memoryLimit, long memoryFailcnt,
                         Map<String, Long> memoryStat, long cpuTotal, List<Long> cpuPerCpu, long cpuUser, long cpuSystem,
                         long systemCpu, int onlineCpus, long throttlePeriods, long throttledPeriods, long throttledTime,
                         long pidsCurrent, long pidsLimit, List<Blkio> ioServiceBytes, List<Blkio> ioServiced) {
    }

    private CgroupStats() {
    }

    static Path group(String controller, String cgroupPath) {
        return ROOT.resolve(controller).resolve(cgroupPath.substring(1));
    }

    /** A reading of the cgroup at cgroupPath (as below each controller: /dockgate/ID). */
    public static Sample read(String cgroupPath) throws IOException {
        Path mem = group("memory", cgroupPath);
        Path acct = group("cpuacct", cgroupPath);
        Path cpu = group("cpu", cgroupPath);
        Path pids = group("pids", cgroupPath);
        Path blkio = group("blkio", cgroupPath);
        Map<String, Long> memStat = keyValues(mem.resolve("memory.stat"));
        Map<String, Long> acctStat = keyValues(acct.resolve("cpuacct.stat"));
        Map<String, Long> cpuStat = keyValues(cpu.resolve("cpu.stat"));
        List<Long> perCpu = new ArrayList<>();
        for (String v : text(acct.resolve("cpuacct.usage_percpu")).trim().split("\\s+")) {
            if (!v.isEmpty()) {
                perCpu.add(Long.parseLong(v));
            }
        }
        String pidsMax = text(pids.resolve("pids.max")).trim();
        return new Sample(Instant.now(),
                number(mem.resolve("memory.usage_in_bytes")), number(mem.resolve("memory.max_usage_in_bytes")),
                number(mem.resolve("memory.limit_in_bytes")), number(mem.resolve("memory.failcnt")), memStat,
                number(acct.resolve("cpuacct.usage")), perCpu,
                acctStat.getOrDefault("user", 0L) * 1_000_000_000L / USER_HZ,
                acctStat.getOrDefault("system", 0L) * 1_000_000_000L / USER_HZ,
                systemCpu(), Runtime.getRuntime().availableProcessors(),
                cpuStat.getOrDefault("nr_periods", 0L), cpuStat.getOrDefault("nr_throttled", 0L),
                cpuStat.getOrDefault("throttled_time", 0L),
                number(pids.resolve("pids.current")), pidsMax.equals("max") || pidsMax.isEmpty() ? 0 : Long.parseLong(pidsMax),
                blkio(blkio.resolve("blkio.throttle.io_service_bytes_recursive")),
                blkio(blkio.resolve("blkio.throttle.io_serviced_recursive")));
    }

    /** The host's total CPU time in nanoseconds (the first line of /proc/stat), as Docker computes it. */
    static long systemCpu() throws IOException {
        String first = Files.readAllLines(Path.of("/proc/stat")).get(0);
        String[] f = first.trim().split("\\s+");
        long ticks = 0;
        for (int i = 1; i < f.length && i <= 7; i++) {
            ticks += Long.parseLong(f[i]);
        }
        return ticks * 1_000_000_000L / USER_HZ;
    }

    private static String text(Path p) throws IOException {
        return Files.exists(p) ? Files.readString(p) : "";
    }

    private static long number(Path p) throws IOException {
        String t = text(p).trim();
        return t.isEmpty() ? 0 : Long.parseLong(t);
    }

    private static Map<String, Long> keyValues(Path p) throws IOException {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String line : text(p).split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 2) {
                try {
                    out.put(f[0], Long.parseLong(f[1]));
                } catch (NumberFormatException ignored) {
                    // not a counter
                }
            }
        }
        return out;
    }

    private static List<Blkio> blkio(Path p) throws IOException {
        List<Blkio> out = new ArrayList<>();
        for (String line : text(p).split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 3 && f[0].contains(":")) {
                String[] dev = f[0].split(":");
                out.add(new Blkio(Integer.parseInt(dev[0]), Integer.parseInt(dev[1]), f[1].toLowerCase(java.util.Locale.ROOT),
                        Long.parseLong(f[2])));
            }
        }
        return out;
    }
}
