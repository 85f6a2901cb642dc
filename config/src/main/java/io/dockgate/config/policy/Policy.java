package io.dockgate.config.policy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * An authorization policy, validated: deny by default; bindings, in file order, grant operations to
 * subjects, possibly scoped to the caller's own objects and constrained in what a create, exec or
 * update body may ask for. Read with {@link PolicyLoader}.
 *
 * @param mode     enforce, or dry-run (would-be denials are audited, not enforced)
 * @param roles    role name to the operations it grants (patterns expanded)
 * @param bindings in file order
 * @param source   the file it came from, if any
 */
public record Policy(Mode mode, Map<String, Set<String>> roles, List<Binding> bindings, Optional<Path> source) {

    public Policy {
        roles = Map.copyOf(roles);
        bindings = List.copyOf(bindings);
    }

    /** Enforcement mode. */
    public enum Mode { ENFORCE, DRY_RUN }

    /** Whose objects a binding reaches. */
    public enum Scope { ALL, OWN }

    /**
     * Who a binding is for and what it grants.
     *
     * @param name        for audit records and explain
     * @param line        where it starts in the file
     * @param subjects    any of these (each subject: all of its conditions)
     * @param operations  what it grants (from its roles and its own operations list)
     * @param scope       all objects, or only the caller's own
     * @param constraints on create, exec, update and volume create bodies
     * @param limits      per identity
     * @param shared      under scope own: patterns of the common image names the caller sees and uses too
     *                    (images others made or pulled without tenancy, {@code busybox:*}, {@code library/*})
     */
    public record Binding(String name, int line, List<Subject> subjects, Set<String> operations, Scope scope,
                          Constraints constraints, Limits limits, List<String> shared) {
        public Binding {
            subjects = List.copyOf(subjects);
            operations = Set.copyOf(operations);
            shared = shared == null ? List.of() : List.copyOf(shared);
        }

        public Binding(String name, int line, List<Subject> subjects, Set<String> operations, Scope scope,
                       Constraints constraints, Limits limits) {
            this(name, line, subjects, operations, scope, constraints, limits, List.of());
        }
    }

    /**
     * One subject: every condition given must hold. {@code user} is the caller's name (certificate CN, or
     * Unix user name), {@code group} one of its groups (certificate O/OU, or Unix groups); {@code cn},
     * {@code o}, {@code ou}, {@code san}, {@code fingerprint} only match certificates; {@code uid},
     * {@code gid} only Unix peers. {@code user: "*"} matches every authenticated caller.
     */
    public record Subject(Optional<String> transport, Optional<String> user, Optional<String> group, Optional<String> cn,
                          Optional<String> o, Optional<String> ou, Optional<String> san, Optional<String> fingerprint,
                          OptionalLong uid, OptionalLong gid) {
    }

    /** A host path that bind mounts may use (the path itself or below it). */
    public record HostPath(String path, boolean readOnly) {
    }

    /** A limit on one resource of a create or update: required (non-zero) and/or at most max. */
    public record Resource(boolean required, OptionalLong max) {
        public static final Resource FREE = new Resource(false, OptionalLong.empty());
    }

    /** What exec may do. */
    public record ExecRules(boolean privileged, boolean root) {
    }

    /**
     * Constraints on bodies. Defaults are the safe ones: nothing privileged, no host paths, no host
     * namespaces, no added capabilities, no devices, no unconfined profiles, no sysctls, no OOM-killer
     * exemptions ({@code oom}: OomKillDisable, a negative OomScoreAdj), no cgroup parent of the caller's
     * choosing ({@code cgroupParent}), the runc runtime only; running as
     * root, any image and any registry (pull, push, login) are allowed unless restricted. {@code unrestricted} lifts them all (an
     * administrator's binding).
     */
    public record Constraints(boolean unrestricted, boolean privileged, List<HostPath> bindMounts, Set<String> namespaces,
                              Set<String> capAdd, boolean devices, boolean unconfined, boolean sysctls, boolean oom, boolean cgroupParent,
                              Set<String> runtimes,
                              boolean root, List<String> images, List<String> registries, Resource memory, Resource cpus,
                              Resource pids, ExecRules exec, PortRules ports) {
        public static final Set<String> NAMESPACES = Set.of("network", "pid", "ipc", "uts", "userns", "cgroup");

        public Constraints {
            bindMounts = List.copyOf(bindMounts);
            namespaces = Set.copyOf(namespaces);
            capAdd = Set.copyOf(capAdd);
            runtimes = Set.copyOf(runtimes);
            images = List.copyOf(images);
            registries = List.copyOf(registries);
        }

        public static Constraints defaults() {
            return new Constraints(false, false, List.of(), Set.of(), Set.of(), false, false, false, false, false, Set.of("runc"), true,
                    List.of(), List.of(), Resource.FREE, Resource.FREE, Resource.FREE, new ExecRules(false, true), PortRules.DEFAULT);
        }
    }

    /**
     * What a constrained caller may publish: host addresses (empty: any), the host ports it may name
     * (from-to; ports the daemon picks, -P or no host port, are always allowed), and whether ports below
     * 1024 may be named (not by default).
     */
    public record PortRules(List<String> hostIps, int from, int to, boolean privileged) {
        public static final PortRules DEFAULT = new PortRules(List.of(), 1, 65535, false);

        public PortRules {
            hostIps = List.copyOf(hostIps);
        }
    }

    /**
     * Per-identity limits (absent: none).
     *
     * @param rate       requests per second, refilled continuously
     * @param burst      bucket size (default: rate, at least 1)
     * @param streams    concurrent long-lived requests (attach, exec start, logs/events/stats streams)
     * @param containers containers the identity may own at once
     */
    public record Limits(OptionalLong rate, OptionalLong burst, OptionalLong streams, OptionalLong containers) {
        public static final Limits NONE = new Limits(OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(),
                OptionalLong.empty());
    }
}
