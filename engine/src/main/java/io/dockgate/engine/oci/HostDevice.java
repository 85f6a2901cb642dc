package io.dockgate.engine.oci;

import io.dockgate.engine.EngineException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A host device node ({@code --device}) as the OCI spec needs it: type, major and minor numbers and file
 * mode, read from the host (symbolic links followed, as dockerd resolves them); and Docker's device
 * cgroup rules ({@code --device-cgroup-rule "c 1:3 mr"}).
 */
public record HostDevice(String type, int major, int minor, int mode) {
    private static final Pattern RULE = Pattern.compile("([acb]) ([0-9]+|\\*):([0-9]+|\\*) ([rwm]{1,3})");

    /** A device cgroup rule; null major or minor means any ("*"). */
    public record Rule(String type, Integer major, Integer minor, String access) {
    }

    /** The device at path, or 400 with dockerd's wording when it is missing or not a device node. */
    public static HostDevice of(String path) {
        try {
            Path real = Path.of(path).toRealPath();
            int mode = (Integer) Files.getAttribute(real, "unix:mode");
            long rdev = (Long) Files.getAttribute(real, "unix:rdev");
            String type = switch (mode & 0170000) {
                case 0020000 -> "c";
                case 0060000 -> "b";
                default -> throw EngineException.invalid("error gathering device information while adding custom device \"" + path
                        + "\": not a device node");
            };
            int major = (int) (((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfffL));
            int minor = (int) ((rdev & 0xff) | ((rdev >> 12) & ~0xffL));
            return new HostDevice(type, major, minor, mode & 07777);
        } catch (IOException e) {
            throw EngineException.invalid("error gathering device information while adding custom device \"" + path
                    + "\": no such file or directory");
        }
    }

    /** Parses a rule, or 400 with dockerd's wording. */
    public static Rule rule(String text) {
        Matcher m = RULE.matcher(text.trim());
        if (!m.matches()) {
            throw EngineException.invalid("invalid device cgroup rule format: '" + text + "'");
        }
        return new Rule(m.group(1), m.group(2).equals("*") ? null : Integer.parseInt(m.group(2)),
                m.group(3).equals("*") ? null : Integer.parseInt(m.group(3)), m.group(4));
    }

    /** Checks a permission string: a non-empty subset of "rwm". */
    public static void checkPermissions(String permissions, String device) {
        if (permissions == null || !permissions.matches("[rwm]{1,3}") || permissions.chars().distinct().count() != permissions.length()) {
            throw EngineException.invalid("invalid device mode: " + permissions + " (for " + device + ")");
        }
    }
}
