package io.dockgate.gateway.authz;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.config.policy.Policy;
import io.dockgate.config.policy.PolicyLoader;
import io.dockgate.engine.container.ContainerSpec;
import io.dockgate.engine.container.Containers;
import io.dockgate.engine.container.Execs;
import io.dockgate.engine.volume.VolumeSpec;
import io.dockgate.engine.image.Reference;
import io.dockgate.gateway.request.DockerJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Checks a body against a binding's constraints. The create body is judged on the engine's spec (what
 * will actually run: {@code Binds} and {@code Mounts} are both in its mount list) and on the raw JSON for
 * fields the engine refuses today, so that a policy stays right when the engine learns them. JSON names
 * match case-insensitively, as the engine reads them.
 */
public final class ConstraintChecker {
    private ConstraintChecker() {
    }

    /** A create: its spec (and raw fields the engine refuses today), quota, and under "own" the objects it reaches. */
    public static final Judge CREATE = new Judge() {
        @Override
        public String violation(Policy.Constraints c, RequestFacts facts) {
            return create(c, facts);
        }

        @Override
        public Optional<String> foreignObjects(RequestFacts facts, String owner) {
            return ConstraintChecker.foreignObjects(facts, owner);
        }

        @Override
        public Optional<String> unreachableImage(RequestFacts facts) {
            if (!(facts.model() instanceof ContainerSpec spec) || spec.image() == null || spec.image().isEmpty()) {
                return Optional.empty();
            }
            return reach(facts, spec.image());
        }

        @Override
        public boolean createsContainer() {
            return true;
        }
    };

    /**
     * An operation on the image its path names (inspect, history, tag, delete): under "own" the caller's
     * namespace must reach it, else it is missing to the caller, audited as a denial.
     */
    public static final Judge IMAGE_IN_PATH = new Judge() {
        @Override
        public String violation(Policy.Constraints c, RequestFacts facts) {
            return null;
        }

        @Override
        public Optional<String> unreachableImage(RequestFacts facts) {
            String name = facts.query("name");
            return name == null ? Optional.empty() : reach(facts, name);
        }

        @Override
        public boolean readsImages() {
            return true;
        }
    };

    private static Optional<String> reach(RequestFacts facts, String reference) {
        return facts.lookups().imageReachable(reference) ? Optional.empty() : Optional.of("No such image: " + reference);
    }
    /**
     * A swarm service's create or update: its tasks' container judged as a container create (image,
     * mounts, capabilities, sysctls, security options, published ports, limits); under "own", the networks
     * it attaches to must be the caller's.
     */
    public static final Judge SERVICE = new Judge() {
        @Override
        public String violation(Policy.Constraints c, RequestFacts facts) {
            if (!(facts.model() instanceof ServiceTask task)) {
                return null;
            }
            String why = create(c, task(facts, task));
            return why == null ? null : why + " (service tasks)";
        }

        @Override
        public Optional<String> foreignObjects(RequestFacts facts, String owner) {
            if (!(facts.model() instanceof ServiceTask task)) {
                return Optional.empty();
            }
            for (String network : task.networks()) {
                Optional<String> netOwner = facts.lookups().networkOwner(network);
                if (netOwner.isEmpty() || !netOwner.get().isEmpty() && !netOwner.get().equals(owner)) {
                    return Optional.of("network " + network + " is not yours or does not exist (service tasks)");
                }
            }
            return ConstraintChecker.foreignObjects(task(facts, task), owner);
        }
    };

    private static RequestFacts task(RequestFacts facts, ServiceTask task) {
        return new RequestFacts(task.createJson(), task.spec(), facts.query(), facts.lookups());
    }

    /** An exec create: its spec's privilege and user. */
    public static final Judge EXEC = ConstraintChecker::exec;
    /** An exec start: the exec session as created, whoever created it. */
    public static final Judge EXEC_START = ConstraintChecker::execStart;
    /** A docker update: the resources it changes, judged on the container's resources after the update. */
    public static final Judge UPDATE = ConstraintChecker::update;
    /** A volume create: driver and driver options (bind devices are host paths). */
    public static final Judge VOLUME = ConstraintChecker::volume;
    /**
     * A network create by a constrained caller: no subnet over a route of the host (it would take that
     * traffic over) and no bridge name of its choosing (a host interface name).
     */
    public static final Judge NETWORK = ConstraintChecker::network;
    /** A network connect or disconnect: under "own", the container must be the caller's. */
    public static final Judge CONNECTION = new Judge() {
        @Override
        public String violation(Policy.Constraints c, RequestFacts facts) {
            return null;
        }

        @Override
        public Optional<String> foreignObjects(RequestFacts facts, String owner) {
            if (!(facts.model() instanceof io.dockgate.engine.net.NetworkConnection conn)) {
                return Optional.empty();
            }
            Optional<String> other = facts.lookups().containerOwner(conn.container());
            return other.isPresent() && other.get().equals(owner) ? Optional.empty()
                    : Optional.of("the container " + conn.container() + " is not yours or does not exist");
        }
    };
    /** A pull or import: the image reference in the query. */
    public static final Judge PULL = ConstraintChecker::pull;
    /** A push: the repository (path) and tag (query) as images, its registry as registries. */
    public static final Judge PUSH = new Judge() {
        @Override
        public String violation(Policy.Constraints c, RequestFacts facts) {
            return push(c, facts);
        }

        /** Under "own": a repository the caller has no tag of (another owner's, or nobody's) has nothing to push. */
        @Override
        public Optional<String> unreachableImage(RequestFacts facts) {
            String name = facts.query("name");
            String tag = facts.query("tag");
            if (name == null || facts.lookups().repositoryTagged(name, tag == null ? "" : tag)) {
                return Optional.empty();
            }
            try {
                return Optional.of("An image does not exist locally with the tag: " + Reference.parse(name).familiarName());
            } catch (RuntimeException e) {
                return Optional.empty(); // an invalid name: the engine's 400
            }
        }

        @Override
        public boolean readsImages() {
            return true;
        }
    };
    /** A login: the registry of the body's serveraddress. */
    public static final Judge LOGIN = (c, facts) -> {
        com.fasterxml.jackson.databind.JsonNode a = DockerJson.field(facts.json(), "serveraddress");
        try {
            return registry(c, io.dockgate.engine.image.ImageStore.loginRegistry(a != null && a.isTextual() ? a.asText() : ""));
        } catch (RuntimeException e) {
            return "invalid registry address";
        }
    };
    /** A registry's view of a reference (distribution): its registry. */
    public static final Judge DISTRIBUTION = (c, facts) -> {
        String name = facts.query("name");
        try {
            return name == null ? null : registry(c, Reference.parse(name).domain());
        } catch (RuntimeException e) {
            return "invalid image reference";
        }
    };
    /** A search: the registry named by the term's first component (Docker Hub otherwise). */
    public static final Judge SEARCH = (c, facts) -> {
        try {
            return registry(c, searchRegistry(facts.query("term")));
        } catch (RuntimeException e) {
            return "invalid registry address";
        }
    };

    /**
     * A build, on its parsed request: the RUN containers' network mode (the host's needs the network
     * namespace grant; a user network must be the caller's under "own") and their limits (as a create's
     * resources). Its base images are judged when the Dockerfile is read ({@link #baseImage}).
     */
    public static final Judge BUILD = new Judge() {
        @Override
        public String violation(Policy.Constraints c, RequestFacts facts) {
            return build(c, facts);
        }

        @Override
        public Optional<String> foreignObjects(RequestFacts facts, String owner) {
            if (facts.model() instanceof io.dockgate.engine.build.BuildRequest r && !r.networkMode().isEmpty()
                    && !List.of("bridge", "none", "host").contains(r.networkMode())) {
                Optional<String> netOwner = facts.lookups().networkOwner(r.networkMode());
                if (netOwner.isEmpty() || !netOwner.get().isEmpty() && !netOwner.get().equals(owner)) {
                    return Optional.of("networkmode: network " + r.networkMode() + " is not yours or does not exist");
                }
            }
            return Optional.empty();
        }
    };

    private static String build(Policy.Constraints c, RequestFacts facts) {
        if (!(facts.model() instanceof io.dockgate.engine.build.BuildRequest r)) {
            return null;
        }
        if (r.networkMode().equals("host") && !c.namespaces().contains("network")) {
            return "the host's network namespace is not allowed for build steps (networkmode host)";
        }
        long nanoCpus = r.limits().cpuQuota() > 0
                ? r.limits().cpuQuota() * 1_000_000_000L / (r.limits().cpuPeriod() > 0 ? r.limits().cpuPeriod() : 100_000) : 0;
        String res = resource("memory", c.memory(), r.limits().memory());
        if (res == null) {
            res = resource("cpus", c.cpus(), nanoCpus);
        }
        return res == null ? null : res + " (build steps)";
    }

    /** Whether a build's RUN step may run as this user (the binding's root rule, as for a create). Empty when allowed. */
    public static Optional<String> buildStepUser(Policy.Constraints c, String user) {
        if (c.unrestricted() || c.root() || nonRootUser(user)) {
            return Optional.empty();
        }
        return Optional.of("running a build step as root is not allowed (USER \"" + user + "\"; give a numeric non-zero uid before RUN)");
    }

    /**
     * Whether a build may use this base image (FROM, COPY --from) under the binding's constraints: the
     * allowed images as for a create, and the allowed registries when it would be pulled ({@code pull}, or
     * missing here). Empty when allowed.
     */
    public static Optional<String> baseImage(Policy.Constraints c, String reference, boolean pull, RequestFacts.Lookups lookups) {
        if (c.unrestricted()) {
            return Optional.empty();
        }
        // a base pulled (asked for, or missing here) is judged on its registry as well
        if (!reference.equals("scratch") && !Reference.looksLikeId(reference) && (pull || lookups.imageTags(reference).isEmpty())) {
            try {
                String registry = registry(c, Reference.parse(reference).domain()); // a base the store lacks is pulled from there
                if (registry != null) {
                    return Optional.of(registry);
                }
            } catch (RuntimeException e) {
                return Optional.of("invalid image reference");
            }
        }
        return Optional.ofNullable(image(c, reference, new RequestFacts(null, null, Map.of(), lookups)));
    }

    /** Why the request breaks the binding's constraints under the operation's judge, or empty. */
    public static Optional<String> check(Judge judge, Policy.Constraints c, RequestFacts facts) {
        if (c.unrestricted()) {
            return Optional.empty();
        }
        return Optional.ofNullable(judge.violation(c, facts));
    }

    // ------------------------------------------------------------------ create

    private static String create(Policy.Constraints c, RequestFacts facts) {
        JsonNode body = facts.json();
        JsonNode hc = DockerJson.field(body, "HostConfig");
        String raw = createJson(c, hc, joinedNetwork(DockerJson.text(hc, "NetworkMode"), facts));
        if (raw != null) {
            return raw;
        }
        if (!(facts.model() instanceof ContainerSpec spec)) {
            return null; // the engine refuses this body anyway; the caller, who may ask for it, learns why
        }
        ContainerSpec.Host host = spec.host();
        if (host.privileged() && !c.privileged()) {
            return "privileged containers are not allowed";
        }
        String image = image(c, spec.image(), facts);
        if (image != null) {
            return image;
        }
        for (ContainerSpec.Mount m : host.mounts()) {
            if (m.type().equals(ContainerSpec.Mount.BIND)) {
                String why = hostPath(c, m.source(), m.readOnly());
                if (why != null) {
                    return why;
                }
            }
        }
        for (String entry : host.volumesFromOrEmpty()) {
            // the bind mounts copied from another container are judged as if this body asked for them
            io.dockgate.engine.container.VolumesFrom from;
            try {
                from = io.dockgate.engine.container.VolumesFrom.parse(entry);
            } catch (RuntimeException e) {
                return "invalid VolumesFrom " + entry;
            }
            for (ContainerSpec.Mount m : facts.lookups().containerMounts(from.container()).orElse(List.of())) {
                if (m.type().equals(ContainerSpec.Mount.BIND)) {
                    String why = hostPath(c, m.source(), from.mode() == null ? m.readOnly() : from.mode().equals("ro"));
                    if (why != null) {
                        return why + " (through VolumesFrom " + from.container() + ")";
                    }
                }
            }
        }
        if (host.cgroupParent() != null && !host.cgroupParent().isEmpty() && !c.cgroupParent()) {
            return "a cgroup parent is not allowed (HostConfig.CgroupParent " + host.cgroupParent() + ")";
        }
        String ns = namespaces(c, host.networkMode(), joinedNetwork(host.networkMode(), facts), hc);
        if (ns != null) {
            return ns;
        }
        for (String cap : host.capAdd()) {
            String name = PolicyLoader.normaliseCapability(cap);
            if (!c.capAdd().contains(name)) {
                return "adding capability " + name + " is not allowed";
            }
        }
        if (!c.root()) {
            String user = spec.user() == null || spec.user().isEmpty()
                    ? facts.lookups().imageUser(spec.image()).orElse("") : spec.user();
            if (!nonRootUser(user)) {
                return "running as root is not allowed (user \"" + user + "\"; give a numeric non-zero uid)";
            }
            for (String group : host.groupAddOrEmpty()) {
                if (!group.matches("[0-9]{1,10}") || Long.parseLong(group) == 0) {
                    return "adding group \"" + group + "\" is not allowed when root is not (give a numeric non-zero gid)";
                }
            }
        }
        String published = ports(c.ports(), spec);
        if (published != null) {
            return published;
        }
        if (!c.oom() && (host.oomKillDisable() || host.oomScoreAdj() < 0)) {
            return "exempting a container from the OOM killer is not allowed (OomKillDisable, or OomScoreAdj "
                    + host.oomScoreAdj() + " below 0)";
        }
        String res = resource("memory", c.memory(), host.memory());
        if (res == null) {
            res = resource("cpus", c.cpus(), host.effectiveNanoCpus());
        }
        if (res == null) {
            res = resource("pids", c.pids(), host.pidsLimit());
        }
        return res;
    }

    /** Published ports against the binding's port rules: host addresses, the host ports named, ports below 1024. */
    private static String ports(Policy.PortRules rules, ContainerSpec spec) {
        for (io.dockgate.engine.net.PortBinding b : spec.netOrNone().portsOrEmpty()) {
            String ip = b.hostIp().isEmpty() ? "0.0.0.0" : b.hostIp();
            if (!rules.hostIps().isEmpty() && !rules.hostIps().contains(ip)) {
                return "publishing on " + ip + " is not allowed (allowed: " + String.join(", ", rules.hostIps()) + ")";
            }
            int[] range = b.range();
            if (range == null) {
                continue; // a port the daemon picks from the ephemeral range
            }
            if (range[0] < 1024 && !rules.privileged()) {
                return "publishing host port " + b.hostPort() + " is not allowed (ports below 1024 need ports.privileged)";
            }
            if (range[0] < rules.from() || range[1] > rules.to()) {
                return "publishing host port " + b.hostPort() + " is not allowed (allowed: " + rules.from() + "-" + rules.to() + ")";
            }
        }
        if (spec.netOrNone().publishAll() && !rules.hostIps().isEmpty() && !rules.hostIps().contains("0.0.0.0")) {
            return "publishing every exposed port (-P) on every address is not allowed (allowed: " + String.join(", ", rules.hostIps()) + ")";
        }
        return null;
    }

    /**
     * What the raw HostConfig asks for, judged before the engine translates it: fields the engine does
     * not support yet are still the policy's to refuse first.
     */
    /**
     * The network a {@code container:X} mode ends in, followed through the containers it names (X may
     * itself share another's): "host" when that is the host's; the mode itself when X cannot be found (so
     * that it is judged as the sharing it may be).
     */
    private static String joinedNetwork(String mode, RequestFacts facts) {
        String current = mode;
        for (int hops = 0; hops < 8 && current != null && current.startsWith("container:"); hops++) {
            Optional<ContainerSpec.Host> target = facts.lookups().containerHost(current.substring("container:".length()));
            if (target.isEmpty()) {
                return current;
            }
            current = target.get().networkMode();
        }
        return current;
    }

    private static String createJson(Policy.Constraints c, JsonNode hc, String joinedNetwork) {
        if (hc == null) {
            return null;
        }
        if (DockerJson.bool(hc, "Privileged") && !c.privileged()) {
            return "privileged containers are not allowed";
        }
        for (String cap : orEmpty(DockerJson.strings(hc, "CapAdd"))) {
            String name = PolicyLoader.normaliseCapability(cap);
            if (!c.capAdd().contains(name)) {
                return "adding capability " + name + " is not allowed";
            }
        }
        String ns = namespaces(c, DockerJson.text(hc, "NetworkMode"), joinedNetwork, hc);
        if (ns != null) {
            return ns;
        }
        if (!c.devices()) {
            for (String f : List.of("Devices", "DeviceRequests", "DeviceCgroupRules")) {
                JsonNode v = DockerJson.field(hc, f);
                if (v != null && !(v.isArray() && v.isEmpty())) {
                    return "host devices are not allowed (HostConfig." + f + ")";
                }
            }
        }
        if (!c.unconfined()) {
            for (String opt : orEmpty(DockerJson.strings(hc, "SecurityOpt"))) {
                String o = opt.toLowerCase(Locale.ROOT).replace(':', '=');
                if (o.equals("seccomp=unconfined") || o.equals("apparmor=unconfined") || o.equals("label=disable")
                        || o.equals("systempaths=unconfined") || o.startsWith("seccomp=") && !o.equals("seccomp=default")) {
                    return "security option \"" + opt + "\" is not allowed";
                }
            }
        }
        if (!c.sysctls()) {
            JsonNode sysctls = DockerJson.field(hc, "Sysctls");
            if (sysctls != null && sysctls.size() > 0) {
                return "sysctls are not allowed";
            }
        }
        String runtime = DockerJson.text(hc, "Runtime");
        if (runtime != null && !runtime.isEmpty() && !c.runtimes().contains(runtime)) {
            return "runtime \"" + runtime + "\" is not allowed";
        }
        return null;
    }

    /**
     * Namespaces shared with the host. Another container's network namespace (NetworkMode container:X, X
     * the caller's: see foreignObjects) is the host's only when X is on the host's network; one that cannot
     * be followed is judged as the host's.
     */
    private static String namespaces(Policy.Constraints c, String networkMode, String joinedNetwork, JsonNode hc) {
        if (joinedNetwork != null && (joinedNetwork.equals("host") || joinedNetwork.startsWith("container:"))
                && !c.namespaces().contains("network")) {
            return "the host's network namespace is not allowed (NetworkMode " + networkMode
                    + (networkMode.equals("host") ? "" : ", which shares the host's") + ")";
        }
        Map<String, String> fields = Map.of("PidMode", "pid", "IpcMode", "ipc", "UTSMode", "uts", "UsernsMode", "userns",
                "CgroupnsMode", "cgroup");
        for (Map.Entry<String, String> f : fields.entrySet()) {
            String mode = DockerJson.text(hc, f.getKey());
            if (mode == null || mode.isEmpty() || mode.equals("private") || mode.equals("none") || mode.equals("shareable")) {
                continue;
            }
            if (f.getValue().equals("cgroup") && mode.equals("host")) {
                continue; // cgroup v1 hosts only have the host's cgroup namespace
            }
            if (!c.namespaces().contains(f.getValue())) {
                return "sharing the " + f.getValue() + " namespace is not allowed (HostConfig." + f.getKey() + " " + mode + ")";
            }
        }
        return null;
    }

    /** A bind source must be inside an allowed host path, after symbolic links are followed. */
    static String hostPath(Policy.Constraints c, String source, boolean readOnly) {
        Path given = Path.of(source).normalize();
        Path real = given;
        try {
            if (Files.exists(given)) {
                real = given.toRealPath();
            }
        } catch (IOException e) {
            return "cannot resolve host path " + source;
        }
        for (Policy.HostPath allowed : c.bindMounts()) {
            Path root = Path.of(allowed.path());
            if (given.startsWith(root) && real.startsWith(root)) {
                if (allowed.readOnly() && !readOnly) {
                    return "host path " + source + " may only be mounted read-only";
                }
                return null;
            }
        }
        return "host path " + source + " is not allowed for bind mounts";
    }

    private static String image(Policy.Constraints c, String reference, RequestFacts facts) {
        if (c.images().isEmpty()) {
            return null;
        }
        List<String> names = new ArrayList<>();
        if (Reference.looksLikeId(reference)) {
            // an image asked for by ID is allowed through its tags only
            facts.lookups().imageTags(reference).ifPresent(names::addAll);
        } else {
            try {
                names.add(Reference.parse(reference).withDefaultTag().familiar()); // a name is judged as written
            } catch (RuntimeException e) {
                return "invalid image reference";
            }
        }
        for (String name : names) {
            for (String pattern : c.images()) {
                if (glob(pattern).matcher(name).matches()) {
                    return null;
                }
            }
        }
        return "image " + reference + " is not allowed (allowed: " + String.join(", ", c.images()) + ")";
    }

    /**
     * Whether a common image name is shared by a binding's patterns (compiled once): a pattern matches the familiar form
     * ({@code busybox:latest}), the path form of Docker Hub's official images ({@code library/busybox:latest})
     * or the full one ({@code docker.io/library/busybox:latest}).
     */
    static java.util.function.Predicate<Reference> sharedImages(List<String> patterns) {
        if (patterns.isEmpty()) {
            return ref -> false;
        }
        List<Pattern> compiled = patterns.stream().map(ConstraintChecker::glob).toList(); // once: a listing tests every name
        return ref -> {
            String suffix = ref.digest() != null ? "@" + ref.digest() : ":" + (ref.tag() == null ? Reference.DEFAULT_TAG : ref.tag());
            List<String> forms = List.of(ref.familiar(), ref.path() + suffix, ref.canonical());
            return compiled.stream().anyMatch(p -> forms.stream().anyMatch(f -> p.matcher(f).matches()));
        };
    }

    private static Pattern glob(String pattern) {
        StringBuilder re = new StringBuilder();
        for (char ch : pattern.toCharArray()) {
            re.append(ch == '*' ? ".*" : Pattern.quote(String.valueOf(ch)));
        }
        return Pattern.compile(re.toString());
    }

    /** A user that certainly is not uid 0: a numeric uid other than 0, with or without a group. */
    static boolean nonRootUser(String user) {
        if (user == null || user.isEmpty()) {
            return false;
        }
        String uid = user.contains(":") ? user.substring(0, user.indexOf(':')) : user;
        if (!uid.matches("[0-9]{1,10}")) {
            return false; // names (root, or any name the image maps to 0) are not trusted
        }
        return Long.parseLong(uid) != 0;
    }

    private static String resource(String name, Policy.Resource r, long value) {
        boolean unlimited = value <= 0;
        if (r.required() && unlimited) {
            return "a " + name + " limit is required";
        }
        if (r.max().isPresent() && (unlimited || value > r.max().getAsLong())) {
            return name + " limit " + (unlimited ? "unlimited" : String.valueOf(value)) + " is over the maximum "
                    + r.max().getAsLong();
        }
        return null;
    }

    // ------------------------------------------------------------------ exec, update, volume, pull

    private static String exec(Policy.Constraints c, RequestFacts facts) {
        if (!(facts.model() instanceof Execs.ExecSpec spec)) {
            return null; // the engine refuses this body anyway
        }
        if (spec.privileged() && !c.exec().privileged()) {
            return "privileged exec is not allowed";
        }
        if (!c.exec().root() || !c.root()) {
            String user = spec.user();
            if (user == null || user.isEmpty()) {
                user = facts.lookups().containerUser(facts.query("id")).orElse("");
            }
            if (!nonRootUser(user)) {
                return "exec as root is not allowed (user \"" + user + "\")";
            }
        }
        return null;
    }

    /**
     * Starting an exec is judged again, against the starter's binding: an exec session someone else
     * created (privileged, or as root) is not a way around the exec constraints.
     */
    private static String execStart(Policy.Constraints c, RequestFacts facts) {
        Optional<RequestFacts.ExecView> exec = facts.lookups().exec(facts.query("id"));
        if (exec.isEmpty()) {
            return null; // no such exec: the handler answers 404
        }
        if (exec.get().privileged() && !c.exec().privileged()) {
            return "starting a privileged exec is not allowed";
        }
        if (!c.exec().root() || !c.root()) {
            String user = exec.get().user().isEmpty()
                    ? facts.lookups().containerUser(exec.get().containerId()).orElse("") : exec.get().user();
            if (!nonRootUser(user)) {
                return "starting an exec as root is not allowed (user \"" + user + "\")";
            }
        }
        return null;
    }

    private static String update(Policy.Constraints c, RequestFacts facts) {
        if (!(facts.model() instanceof ContainerSpec.Host changes)) {
            return null;
        }
        Optional<ContainerSpec.Host> current = facts.lookups().containerHost(facts.query("id"));
        if (current.isEmpty()) {
            return null; // no such container: the handler answers 404
        }
        ContainerSpec.Host after;
        try {
            after = current.get().updatedBy(changes);
        } catch (RuntimeException e) {
            return null; // the engine refuses this update anyway
        }
        String r = changes.memory() != 0 ? resource("memory", c.memory(), after.memory()) : null;
        if (r == null && changes.changesCpuLimit()) {
            r = resource("cpus", c.cpus(), after.effectiveNanoCpus());
        }
        if (r == null && changes.pidsLimit() != 0) {
            r = resource("pids", c.pids(), after.pidsLimit());
        }
        return r;
    }

    private static String volume(Policy.Constraints c, RequestFacts facts) {
        if (!(facts.model() instanceof VolumeSpec spec)) {
            return null;
        }
        String driver = spec.driver();
        if (driver != null && !driver.isEmpty() && !driver.equals("local")) {
            return "volume driver \"" + driver + "\" is not allowed";
        }
        Map<String, String> opts = spec.optionsOrEmpty();
        if (opts.isEmpty()) {
            return null;
        }
        String o = "";
        String device = null;
        for (Map.Entry<String, String> e : opts.entrySet()) {
            switch (e.getKey().toLowerCase(Locale.ROOT)) {
                case "o" -> o = e.getValue();
                case "device" -> device = e.getValue();
                case "type" -> {
                    if (!e.getValue().equals("none")) {
                        return "volume filesystem type \"" + e.getValue() + "\" is not allowed";
                    }
                }
                default -> {
                    return "volume driver option \"" + e.getKey() + "\" is not allowed";
                }
            }
        }
        if (device == null) {
            return "volume driver options without a device are not allowed";
        }
        List<String> flags = List.of(o.split(","));
        if (!flags.contains("bind") && !flags.contains("rbind")) {
            return "volume device mounts other than bind are not allowed";
        }
        if (!device.startsWith("/")) {
            return "volume device must be an absolute host path";
        }
        return hostPath(c, device, flags.contains("ro"));
    }

    private static String network(Policy.Constraints c, RequestFacts facts) {
        if (!(facts.model() instanceof io.dockgate.engine.net.NetworkSpec spec)) {
            return null;
        }
        if (spec.optionsOrEmpty().containsKey("com.docker.network.bridge.name")) {
            return "naming the network's bridge (com.docker.network.bridge.name) is not allowed";
        }
        for (String cidr : new String[] {spec.subnet(), spec.ipRange()}) {
            if (cidr != null && !cidr.isEmpty()) {
                try {
                    java.util.Optional<String> route = io.dockgate.engine.net.Networks.hostRouteOverlapping(cidr);
                    if (route.isPresent()) {
                        return "the subnet " + cidr + " overlaps the host's route " + route.get();
                    }
                } catch (RuntimeException e) {
                    return null; // the engine refuses it anyway
                }
            }
        }
        return null;
    }

    private static String pull(Policy.Constraints c, RequestFacts facts) {
        String from = facts.query("fromImage");
        if (from != null && !from.isEmpty()) {
            try {
                String registry = registry(c, Reference.parse(from).domain());
                if (registry != null) {
                    return registry;
                }
            } catch (RuntimeException e) {
                return "invalid image reference";
            }
        }
        if (c.images().isEmpty()) {
            return null;
        }
        if (from == null) {
            String repo = facts.query("repo");
            if (repo == null || repo.isEmpty()) {
                return "importing an untagged image is not allowed when images are restricted";
            }
            from = repo;
        }
        String tag = facts.query("tag");
        String ref = tag != null && !tag.isEmpty() && !from.contains("@") ? from + (tag.startsWith("sha256:") ? "@" : ":") + tag : from;
        return image(c, ref, new RequestFacts(null, null, Map.of(), RequestFacts.Lookups.NONE));
    }

    /**
     * A push is judged on where it goes: the registry, and the repository with its tag as an image name
     * ({@code images}). Without a tag every tag of the repository is pushed: judged as {@code name:*}, which
     * only a pattern allowing any tag of it admits.
     */
    private static String push(Policy.Constraints c, RequestFacts facts) {
        String name = facts.query("name");
        if (name == null) {
            return null;
        }
        Reference ref;
        try {
            ref = Reference.parse(name);
        } catch (RuntimeException e) {
            return "invalid image reference";
        }
        String registry = registry(c, ref.domain());
        if (registry != null || c.images().isEmpty()) {
            return registry;
        }
        String tag = facts.query("tag");
        if (tag == null || tag.isEmpty()) {
            tag = ref.tag();
        }
        String target = ref.familiarName() + ":" + (tag == null || tag.isEmpty() ? "*" : tag);
        for (String pattern : c.images()) {
            if (glob(pattern).matcher(target).matches()) {
                return null;
            }
        }
        return "pushing " + target + " is not allowed (allowed: " + String.join(", ", c.images()) + ")";
    }

    /** Whether the registry (a reference's domain: docker.io, registry:5000) is one the constraints allow. */
    static String registry(Policy.Constraints c, String domain) {
        if (c.registries().isEmpty() || domain == null) {
            return null;
        }
        for (String pattern : c.registries()) {
            if (glob(pattern).matcher(domain).matches()) {
                return null;
            }
        }
        return "registry " + domain + " is not allowed (allowed: " + String.join(", ", c.registries()) + ")";
    }

    /**
     * The registry a search term names ({@code registry:5000/term}), Docker Hub's otherwise; a first component
     * that looks like a host but is not a valid one is refused (400).
     */
    public static String searchRegistry(String term) {
        String first = searchHost(term);
        return first == null ? Reference.DEFAULT_DOMAIN : io.dockgate.engine.image.ImageStore.loginRegistry(first);
    }

    /** What a search term asks its registry for: the term without the host it names. */
    public static String searchQuery(String term) {
        String first = searchHost(term);
        return first == null ? term : term.substring(first.length() + 1);
    }

    /** The term's first component when it names a registry host (has a dot or a port, or is localhost), else null. */
    private static String searchHost(String term) {
        int slash = term == null ? -1 : term.indexOf('/');
        String first = slash > 0 ? term.substring(0, slash) : "";
        return first.contains(".") || first.contains(":") || first.equals("localhost") ? first : null;
    }

    /**
     * Under "own", a create may mount the caller's named volumes or new ones, not another owner's, may
     * not join another owner's container's namespaces ({@code container:<id>} modes) nor copy its mounts
     * ({@code VolumesFrom}).
     */
    static Optional<String> foreignObjects(RequestFacts facts, String owner) {
        com.fasterxml.jackson.databind.JsonNode hc = io.dockgate.gateway.request.DockerJson.field(facts.json(), "HostConfig");
        for (String field : new String[] {"NetworkMode", "PidMode", "IpcMode"}) {
            com.fasterxml.jackson.databind.JsonNode mode = io.dockgate.gateway.request.DockerJson.field(hc, field);
            if (mode != null && mode.isTextual() && mode.asText().startsWith("container:")) {
                String ref = mode.asText().substring("container:".length());
                Optional<String> other = facts.lookups().containerOwner(ref);
                if (other.isEmpty() || !other.get().equals(owner)) {
                    return Optional.of("HostConfig." + field + " joins a container that is not yours");
                }
            }
        }
        if (!(facts.model() instanceof io.dockgate.engine.container.ContainerSpec spec)) {
            return Optional.empty();
        }
        String network = spec.host().networkMode();
        if (network != null && !network.isEmpty() && !network.equals("none") && !network.equals("host")
                && !network.startsWith("container:")) {
            // another's network answers as a missing one would: the same refusal either way
            Optional<String> netOwner = facts.lookups().networkOwner(network);
            if (netOwner.isEmpty() || !netOwner.get().isEmpty() && !netOwner.get().equals(owner)) {
                return Optional.of("HostConfig.NetworkMode: network " + network + " is not yours or does not exist");
            }
        }
        for (io.dockgate.engine.net.EndpointRequest e : spec.netOrNone().endpointsOrEmpty()) {
            String n = e.network();
            if (n.equals("default") || n.equals(network) || n.equals("none") || n.equals("host")) {
                continue;
            }
            Optional<String> netOwner = facts.lookups().networkOwner(n);
            if (netOwner.isEmpty() || !netOwner.get().isEmpty() && !netOwner.get().equals(owner)) {
                return Optional.of("NetworkingConfig.EndpointsConfig: network " + n + " is not yours or does not exist");
            }
        }
        for (io.dockgate.engine.container.ContainerSpec.Link link : spec.netOrNone().linksOrEmpty()) {
            Optional<String> other = facts.lookups().containerOwner(link.container());
            if (other.isEmpty() || !other.get().equals(owner)) {
                return Optional.of("HostConfig.Links: container " + link.container() + " is not yours");
            }
        }
        for (String entry : spec.host().volumesFromOrEmpty()) {
            String ref;
            try {
                ref = io.dockgate.engine.container.VolumesFrom.parse(entry).container();
            } catch (RuntimeException e) {
                return Optional.of("invalid HostConfig.VolumesFrom " + entry);
            }
            Optional<String> other = facts.lookups().containerOwner(ref);
            if (other.isEmpty() || !other.get().equals(owner)) {
                return Optional.of("HostConfig.VolumesFrom copies the mounts of a container that is not yours");
            }
        }
        for (var m : spec.host().mounts()) {
            if (m.type().equals(io.dockgate.engine.container.ContainerSpec.Mount.VOLUME) && m.source() != null && !m.source().isEmpty()) {
                Optional<java.util.Map<String, String>> labels = facts.lookups().volumeLabels(m.source());
                if (labels.isPresent() && !owner.equals(labels.get().get(Authorizer.OWNER_LABEL))) {
                    return Optional.of("the volume " + m.source() + " is not yours");
                }
            }
        }
        return Optional.empty();
    }

    private static List<String> orEmpty(List<String> l) {
        return l == null ? List.of() : l;
    }
}
