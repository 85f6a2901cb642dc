package io.dockgate.gateway.auth;

/** The kernel's SO_PEERCRED answer for a Unix socket peer, taken when it connected. */
public record PeerCredentials(int pid, int uid, int gid) {
}
