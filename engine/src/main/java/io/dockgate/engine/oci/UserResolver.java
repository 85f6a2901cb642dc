package io.dockgate.engine.oci;

import io.dockgate.engine.EngineException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Docker's {@code --user}: {@code name}, {@code uid}, {@code name:group}, {@code uid:gid}, resolved
 * through the image's /etc/passwd and /etc/group (read safely inside the root). A numeric uid without a
 * passwd entry is allowed (gid 0), as Docker does; an unknown name is an error.
 */
public final class UserResolver {
    /** The process identity for the OCI spec. */
    public record User(int uid, int gid, List<Integer> additionalGids, String home) {
    }

    private UserResolver() {
    }

    public static User resolve(Path rootfs, String user) throws IOException {
        String spec = user == null || user.isEmpty() ? "0" : user;
        String userPart = spec.contains(":") ? spec.substring(0, spec.indexOf(':')) : spec;
        String groupPart = spec.contains(":") ? spec.substring(spec.indexOf(':') + 1) : null;
        List<String[]> passwd = parse(RootfsPaths.readIfPresent(rootfs, "/etc/passwd"));
        List<String[]> group = parse(RootfsPaths.readIfPresent(rootfs, "/etc/group"));
        Integer uid = null;
        Integer gid = null;
        String name = null;
        String home = "/";
        for (String[] p : passwd) {
            if (p.length >= 4 && (p[0].equals(userPart) || isNumber(userPart) && p[2].equals(userPart))) {
                name = p[0];
                uid = Integer.parseInt(p[2]);
                gid = Integer.parseInt(p[3]);
                home = p.length >= 6 && !p[5].isEmpty() ? p[5] : "/";
                break;
            }
        }
        if (uid == null) {
            if (!isNumber(userPart)) {
                throw EngineException.invalid("unable to find user " + userPart + ": no matching entries in passwd file");
            }
            uid = Integer.parseInt(userPart);
            gid = 0;
        }
        if (groupPart != null && !groupPart.isEmpty()) {
            gid = null;
            for (String[] g : group) {
                if (g.length >= 3 && (g[0].equals(groupPart) || isNumber(groupPart) && g[2].equals(groupPart))) {
                    gid = Integer.parseInt(g[2]);
                    break;
                }
            }
            if (gid == null) {
                if (!isNumber(groupPart)) {
                    throw EngineException.invalid("unable to find group " + groupPart + ": no matching entries in group file");
                }
                gid = Integer.parseInt(groupPart);
            }
        }
        List<Integer> additional = new ArrayList<>();
        if (name != null && groupPart == null) {
            for (String[] g : group) {
                if (g.length >= 4 && List.of(g[3].split(",")).contains(name)) {
                    int id = Integer.parseInt(g[2]);
                    if (id != gid && !additional.contains(id)) {
                        additional.add(id);
                    }
                }
            }
        }
        return new User(uid, gid, additional, home);
    }

    /**
     * The user with Docker's {@code --group-add} groups as well: names through the image's /etc/group,
     * numbers as they are; an unknown name is an error, as dockerd's.
     */
    public static User withGroups(Path rootfs, User user, List<String> groups) throws IOException {
        if (groups == null || groups.isEmpty()) {
            return user;
        }
        List<String[]> group = parse(RootfsPaths.readIfPresent(rootfs, "/etc/group"));
        List<Integer> additional = new ArrayList<>(user.additionalGids());
        for (String wanted : groups) {
            Integer gid = null;
            for (String[] g : group) {
                if (g.length >= 3 && g[0].equals(wanted)) {
                    gid = Integer.parseInt(g[2]);
                    break;
                }
            }
            if (gid == null) {
                if (!isNumber(wanted)) {
                    throw EngineException.invalid("Unable to find group " + wanted + ": no matching entries in group file");
                }
                gid = Integer.parseInt(wanted);
            }
            if (gid != user.gid() && !additional.contains(gid)) {
                additional.add(gid);
            }
        }
        return new User(user.uid(), user.gid(), additional, user.home());
    }

    private static boolean isNumber(String s) {
        return !s.isEmpty() && s.chars().allMatch(Character::isDigit) && s.length() < 10;
    }

    private static List<String[]> parse(String text) {
        List<String[]> rows = new ArrayList<>();
        if (text == null) {
            return rows;
        }
        for (String line : text.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                String[] f = line.split(":", -1);
                try {
                    if (f.length >= 3) {
                        Integer.parseInt(f[2]);
                        rows.add(f);
                    }
                } catch (NumberFormatException e) {
                    // skip a malformed line
                }
            }
        }
        return rows;
    }
}
