package io.dockgate.gateway.auth;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * User and group names for uids and gids, from /etc/passwd and /etc/group (the files NSS reads on a
 * Debian host; LDAP or systemd-homed users show as {@code uid:N}). Read on each lookup so that account
 * changes apply at once; callers run it off the event loop or once per connection.
 */
public final class UnixAccounts {
    private final Path passwd;
    private final Path group;

    public UnixAccounts() {
        this(Path.of("/etc/passwd"), Path.of("/etc/group"));
    }

    public UnixAccounts(Path passwd, Path group) {
        this.passwd = passwd;
        this.group = group;
    }

    public Optional<String> userName(int uid) {
        for (String[] fields : read(passwd)) {
            if (fields.length >= 3 && fields[2].equals(Integer.toString(uid))) {
                return Optional.of(fields[0]);
            }
        }
        return Optional.empty();
    }

    public Optional<String> groupName(int gid) {
        for (String[] fields : read(group)) {
            if (fields.length >= 3 && fields[2].equals(Integer.toString(gid))) {
                return Optional.of(fields[0]);
            }
        }
        return Optional.empty();
    }

    public Optional<Integer> groupId(String name) {
        for (String[] fields : read(group)) {
            if (fields.length >= 3 && fields[0].equals(name)) {
                try {
                    return Optional.of(Integer.parseInt(fields[2]));
                } catch (NumberFormatException e) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }

    /** The primary group's name followed by every group that lists the user as a member. */
    public List<String> groupNames(String user, int primaryGid) {
        Set<String> names = new LinkedHashSet<>();
        names.add(groupName(primaryGid).orElse("gid:" + primaryGid));
        for (String[] fields : read(group)) {
            if (fields.length >= 4 && !fields[3].isEmpty()) {
                for (String member : fields[3].split(",")) {
                    if (member.trim().equals(user)) {
                        names.add(fields[0]);
                    }
                }
            }
        }
        return new ArrayList<>(names);
    }

    /** Builds the principal for a Unix socket peer. */
    public Principal principal(PeerCredentials peer) {
        String user = userName(peer.uid()).orElse("uid:" + peer.uid());
        return Principal.ofPeer(peer, user, groupNames(user, peer.gid()));
    }

    private static List<String[]> read(Path file) {
        List<String[]> rows = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file)) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    rows.add(line.split(":", -1));
                }
            }
        } catch (IOException e) {
            // an unreadable file means no names: callers fall back to numeric ids
        }
        return rows;
    }
}
