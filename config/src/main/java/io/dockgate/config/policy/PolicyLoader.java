package io.dockgate.config.policy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.dockgate.config.ConfigException;
import io.dockgate.config.Sizes;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Reads an authorization policy from YAML or JSON ({@code .json} files are read as JSON, everything else
 * as YAML) and validates it completely: an unknown key, a duplicate key, a value of the wrong type, an
 * unknown operation or role, or an empty subject is an error naming the file, the line and the field
 * ({@code policy.yaml:12: bindings[0].constraints.privileged: must be true or false}).
 */
public final class PolicyLoader {
    private static final JsonFactory JSON = new JsonFactory();
    private static final YAMLFactory YAML = new YAMLFactory();
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");

    private PolicyLoader() {
    }

    public static Policy load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException("policy file " + file + " does not exist");
        } catch (IOException e) {
            throw new ConfigException("cannot read policy file " + file + ": " + e.getMessage(), e);
        }
        boolean json = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json");
        return parse(text, file.toString(), json, Optional.of(file));
    }

    /** Parses policy text; {@code name} prefixes error messages. */
    public static Policy parse(String text, String name, boolean json, Optional<Path> source) {
        Node root;
        try (JsonParser parser = (json ? JSON : YAML).createParser(text)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                throw new ConfigException(name + ": the policy is empty");
            }
            root = read(parser, "", name);
            if (parser.nextToken() != null) {
                throw new ConfigException(name + ":" + parser.currentTokenLocation().getLineNr()
                        + ": unexpected content after the policy (one document only)");
            }
        } catch (JsonProcessingException e) {
            int line = e.getLocation() != null ? e.getLocation().getLineNr() : 0;
            String message = String.join("; ", e.getOriginalMessage().lines()
                    .filter(l -> !l.isBlank() && !Character.isWhitespace(l.charAt(0)) && !l.startsWith(" in "))
                    .distinct().toList());
            throw new ConfigException(name + ":" + line + ": not valid " + (json ? "JSON" : "YAML") + ": " + message, e);
        } catch (IOException e) {
            throw new ConfigException(name + ": " + e.getMessage(), e);
        }
        return new Reader(name).policy(root, source);
    }

    // ------------------------------------------------------------------ a tree that remembers lines

    /** A parsed value with its path and line. value: Map, List, String, Boolean, Number or null. */
    record Node(String path, int line, Object value) {
        @SuppressWarnings("unchecked")
        Map<String, Node> map() {
            return (Map<String, Node>) value;
        }

        @SuppressWarnings("unchecked")
        List<Node> list() {
            return (List<Node>) value;
        }
    }

    private static Node read(JsonParser p, String path, String name) throws IOException {
        int line = p.currentTokenLocation().getLineNr();
        JsonToken t = p.currentToken();
        switch (t) {
            case START_OBJECT -> {
                Map<String, Node> map = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    int keyLine = p.currentTokenLocation().getLineNr();
                    String child = path.isEmpty() ? key : path + "." + key;
                    if (map.containsKey(key)) {
                        throw new ConfigException(name + ":" + keyLine + ": " + child + ": given twice");
                    }
                    p.nextToken();
                    map.put(key, read(p, child, name));
                }
                return new Node(path, line, map);
            }
            case START_ARRAY -> {
                List<Node> list = new ArrayList<>();
                int i = 0;
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    list.add(read(p, path + "[" + i++ + "]", name));
                }
                return new Node(path, line, list);
            }
            case VALUE_STRING -> {
                return new Node(path, line, p.getText());
            }
            case VALUE_TRUE, VALUE_FALSE -> {
                return new Node(path, line, p.getBooleanValue());
            }
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
                return new Node(path, line, p.getDecimalValue());
            }
            case VALUE_NULL -> {
                return new Node(path, line, null);
            }
            default -> throw new ConfigException(name + ":" + line + ": " + path + ": unexpected " + t);
        }
    }

    // ------------------------------------------------------------------ validation

    private static final class Reader {
        private final String name;

        Reader(String name) {
            this.name = name;
        }

        private ConfigException error(Node n, String message) {
            return new ConfigException(name + ":" + n.line() + ": " + (n.path().isEmpty() ? "policy" : n.path()) + ": " + message);
        }

        private Map<String, Node> object(Node n, Set<String> allowed) {
            if (!(n.value() instanceof Map)) {
                throw error(n, "must be a mapping of " + String.join(", ", new TreeSet<>(allowed)));
            }
            for (Map.Entry<String, Node> e : n.map().entrySet()) {
                if (!allowed.contains(e.getKey())) {
                    throw error(e.getValue(), "unknown field (expected one of " + String.join(", ", new TreeSet<>(allowed)) + ")");
                }
            }
            return n.map();
        }

        private List<Node> list(Node n) {
            if (!(n.value() instanceof List)) {
                throw error(n, "must be a list");
            }
            return n.list();
        }

        private String string(Node n) {
            if (n.value() instanceof String s && !s.isEmpty()) {
                return s;
            }
            if (n.value() instanceof BigDecimal d) {
                return d.toPlainString();
            }
            throw error(n, "must be a non-empty string");
        }

        private boolean bool(Node n) {
            if (n.value() instanceof Boolean b) {
                return b;
            }
            throw error(n, "must be true or false");
        }

        private long count(Node n, long min) {
            if (n.value() instanceof BigDecimal d) {
                try {
                    long v = d.longValueExact();
                    if (v >= min) {
                        return v;
                    }
                } catch (ArithmeticException e) {
                    // falls through
                }
            }
            throw error(n, "must be a whole number of at least " + min);
        }

        private List<String> strings(Node n) {
            List<String> out = new ArrayList<>();
            for (Node item : list(n)) {
                out.add(string(item));
            }
            return out;
        }

        Policy policy(Node root, Optional<Path> source) {
            Map<String, Node> top = object(root, Set.of("version", "mode", "roles", "bindings"));
            if (top.containsKey("version") && count(top.get("version"), 1) != 1) {
                throw error(top.get("version"), "only version 1 is known");
            }
            Policy.Mode mode = Policy.Mode.ENFORCE;
            if (top.containsKey("mode")) {
                String m = string(top.get("mode"));
                mode = switch (m) {
                    case "enforce" -> Policy.Mode.ENFORCE;
                    case "dry-run" -> Policy.Mode.DRY_RUN;
                    default -> throw error(top.get("mode"), "must be enforce or dry-run, not \"" + m + "\"");
                };
            }
            Map<String, Set<String>> roles = new LinkedHashMap<>();
            if (top.containsKey("roles")) {
                Node rolesNode = top.get("roles");
                if (!(rolesNode.value() instanceof Map)) {
                    throw error(rolesNode, "must be a mapping of role name to a list of operations");
                }
                for (Map.Entry<String, Node> e : rolesNode.map().entrySet()) {
                    if (!NAME.matcher(e.getKey()).matches()) {
                        throw error(e.getValue(), "invalid role name");
                    }
                    roles.put(e.getKey(), operations(e.getValue()));
                }
            }
            if (!top.containsKey("bindings")) {
                throw error(root, "bindings is required (a policy without bindings denies everything)");
            }
            List<Policy.Binding> bindings = new ArrayList<>();
            Set<String> names = new LinkedHashSet<>();
            for (Node b : list(top.get("bindings"))) {
                Policy.Binding binding = binding(b, roles);
                if (!names.add(binding.name())) {
                    throw error(b, "binding name \"" + binding.name() + "\" is used twice");
                }
                bindings.add(binding);
            }
            return new Policy(mode, roles, bindings, source);
        }

        private Set<String> operations(Node n) {
            Set<String> out = new TreeSet<>();
            for (Node item : list(n)) {
                String pattern = string(item);
                Set<String> ops = Operations.expand(pattern);
                if (ops.isEmpty()) {
                    throw error(item, "unknown operation \"" + pattern + "\" (see docs/security.md, operation catalog)");
                }
                out.addAll(ops);
            }
            return out;
        }

        private Policy.Binding binding(Node n, Map<String, Set<String>> roles) {
            Map<String, Node> b = object(n, Set.of("name", "subjects", "roles", "operations", "scope", "shared", "constraints", "limits"));
            if (!b.containsKey("name")) {
                throw error(n, "name is required");
            }
            String bindingName = string(b.get("name"));
            if (!NAME.matcher(bindingName).matches()) {
                throw error(b.get("name"), "invalid binding name (letters, digits, _ . -)");
            }
            if (!b.containsKey("subjects")) {
                throw error(n, "subjects is required");
            }
            List<Policy.Subject> subjects = new ArrayList<>();
            for (Node s : list(b.get("subjects"))) {
                subjects.add(subject(s));
            }
            if (subjects.isEmpty()) {
                throw error(b.get("subjects"), "must name at least one subject");
            }
            Set<String> ops = new TreeSet<>();
            if (b.containsKey("roles")) {
                for (Node r : list(b.get("roles"))) {
                    String role = string(r);
                    Set<String> granted = roles.get(role);
                    if (granted == null) {
                        throw error(r, "unknown role \"" + role + "\"");
                    }
                    ops.addAll(granted);
                }
            }
            if (b.containsKey("operations")) {
                ops.addAll(operations(b.get("operations")));
            }
            if (ops.isEmpty()) {
                throw error(n, "grants nothing: give roles or operations");
            }
            Policy.Scope scope = Policy.Scope.ALL;
            if (b.containsKey("scope")) {
                String s = string(b.get("scope"));
                scope = switch (s) {
                    case "all" -> Policy.Scope.ALL;
                    case "own" -> Policy.Scope.OWN;
                    default -> throw error(b.get("scope"), "must be all or own, not \"" + s + "\"");
                };
            }
            List<String> shared = new ArrayList<>();
            if (b.containsKey("shared")) {
                if (scope != Policy.Scope.OWN) {
                    throw error(b.get("shared"), "shared names the images a binding with scope: own shares; without it every image is seen");
                }
                shared.addAll(imagePatterns(b.get("shared")));
            }
            Policy.Constraints constraints = b.containsKey("constraints") ? constraints(b.get("constraints")) : Policy.Constraints.defaults();
            Policy.Limits limits = b.containsKey("limits") ? limits(b.get("limits")) : Policy.Limits.NONE;
            return new Policy.Binding(bindingName, n.line(), subjects, ops, scope, constraints, limits, shared);
        }

        private List<String> imagePatterns(Node n) {
            List<String> patterns = new ArrayList<>();
            for (Node i : list(n)) {
                String p = string(i);
                if (!p.matches("[A-Za-z0-9._/:@*-]+")) {
                    throw error(i, "an image pattern has letters, digits, . _ / : @ - and * only");
                }
                patterns.add(p);
            }
            return patterns;
        }

        private Policy.Subject subject(Node n) {
            Map<String, Node> s = object(n, Set.of("transport", "user", "group", "cn", "o", "ou", "san", "fingerprint", "uid", "gid"));
            if (s.isEmpty()) {
                throw error(n, "an empty subject would match everyone: name at least one condition (user: \"*\" for any caller)");
            }
            Optional<String> transport = opt(s, "transport");
            if (transport.isPresent() && !Set.of("tls", "unix").contains(transport.get())) {
                throw error(s.get("transport"), "must be tls or unix");
            }
            boolean certOnly = s.containsKey("cn") || s.containsKey("o") || s.containsKey("ou") || s.containsKey("san")
                    || s.containsKey("fingerprint");
            boolean unixOnly = s.containsKey("uid") || s.containsKey("gid");
            if (certOnly && unixOnly) {
                throw error(n, "mixes certificate fields (cn, o, ou, san, fingerprint) with Unix fields (uid, gid): no caller has both");
            }
            Optional<String> fingerprint = opt(s, "fingerprint").map(PolicyLoader::normaliseFingerprint);
            if (fingerprint.isPresent() && !fingerprint.get().matches("[0-9a-f]{64}")) {
                throw error(s.get("fingerprint"), "must be a SHA-256 fingerprint (64 hex digits, colons allowed)");
            }
            Optional<String> san = opt(s, "san");
            if (san.isPresent() && !san.get().matches("(DNS|IP|URI|email):.+")) {
                throw error(s.get("san"), "must be DNS:name, IP:address, URI:uri or email:address");
            }
            return new Policy.Subject(transport, opt(s, "user"), opt(s, "group"), opt(s, "cn"), opt(s, "o"), opt(s, "ou"),
                    san, fingerprint, optCount(s, "uid"), optCount(s, "gid"));
        }

        private Optional<String> opt(Map<String, Node> m, String key) {
            return m.containsKey(key) ? Optional.of(string(m.get(key))) : Optional.empty();
        }

        private OptionalLong optCount(Map<String, Node> m, String key) {
            return m.containsKey(key) ? OptionalLong.of(count(m.get(key), 0)) : OptionalLong.empty();
        }

        private Policy.Constraints constraints(Node n) {
            Map<String, Node> c = object(n, Set.of("unrestricted", "privileged", "bindMounts", "namespaces", "capAdd", "devices",
                    "unconfined", "sysctls", "oom", "cgroupParent", "runtimes", "root", "images", "registries", "resources", "exec",
                    "ports"));
            Policy.Constraints d = Policy.Constraints.defaults();
            boolean unrestricted = c.containsKey("unrestricted") && bool(c.get("unrestricted"));
            if (unrestricted && c.size() > 1) {
                throw error(n, "unrestricted lifts every constraint: give it alone");
            }
            List<Policy.HostPath> mounts = new ArrayList<>();
            if (c.containsKey("bindMounts")) {
                for (Node m : list(c.get("bindMounts"))) {
                    Map<String, Node> hp = object(m, Set.of("path", "readOnly"));
                    if (!hp.containsKey("path")) {
                        throw error(m, "path is required");
                    }
                    String path = string(hp.get("path"));
                    if (!path.startsWith("/") || path.contains("/../") || path.endsWith("/..") || path.contains("/./")
                            || path.contains("//") || path.endsWith("/.")) {
                        throw error(hp.get("path"), "must be an absolute, normalised host path");
                    }
                    if (path.length() > 1 && path.endsWith("/")) {
                        path = path.substring(0, path.length() - 1);
                    }
                    boolean readOnly = !hp.containsKey("readOnly") || bool(hp.get("readOnly"));
                    mounts.add(new Policy.HostPath(path, readOnly));
                }
            }
            Set<String> namespaces = new TreeSet<>();
            if (c.containsKey("namespaces")) {
                for (Node ns : list(c.get("namespaces"))) {
                    String v = string(ns);
                    if (!Policy.Constraints.NAMESPACES.contains(v)) {
                        throw error(ns, "must be one of " + String.join(", ", new TreeSet<>(Policy.Constraints.NAMESPACES)));
                    }
                    namespaces.add(v);
                }
            }
            Set<String> caps = new TreeSet<>();
            if (c.containsKey("capAdd")) {
                for (Node cap : list(c.get("capAdd"))) {
                    String v = normaliseCapability(string(cap));
                    if (!v.matches("[A-Z_]+")) {
                        throw error(cap, "not a capability name");
                    }
                    caps.add(v);
                }
            }
            Set<String> runtimes = c.containsKey("runtimes") ? new TreeSet<>(strings(c.get("runtimes"))) : d.runtimes();
            List<String> images = new ArrayList<>();
            if (c.containsKey("images")) {
                images.addAll(imagePatterns(c.get("images")));
                if (images.isEmpty()) {
                    throw error(c.get("images"), "an empty list would allow no image: leave images out to allow any");
                }
            }
            List<String> registries = new ArrayList<>();
            if (c.containsKey("registries")) {
                for (Node i : list(c.get("registries"))) {
                    String p = string(i);
                    if (!p.matches("[A-Za-z0-9.:*\\[\\]-]+")) {
                        throw error(i, "a registry pattern is a host with an optional port (docker.io, registry.example.com:5000, *.example.com)");
                    }
                    registries.add(p);
                }
                if (registries.isEmpty()) {
                    throw error(c.get("registries"), "an empty list would allow no registry: leave registries out to allow any");
                }
            }
            Policy.Resource memory = Policy.Resource.FREE;
            Policy.Resource cpus = Policy.Resource.FREE;
            Policy.Resource pids = Policy.Resource.FREE;
            if (c.containsKey("resources")) {
                Map<String, Node> r = object(c.get("resources"), Set.of("memory", "cpus", "pids"));
                if (r.containsKey("memory")) {
                    memory = resource(r.get("memory"), "memory");
                }
                if (r.containsKey("cpus")) {
                    cpus = resource(r.get("cpus"), "cpus");
                }
                if (r.containsKey("pids")) {
                    pids = resource(r.get("pids"), "pids");
                }
            }
            Policy.ExecRules exec = d.exec();
            if (c.containsKey("exec")) {
                Map<String, Node> e = object(c.get("exec"), Set.of("privileged", "root"));
                exec = new Policy.ExecRules(e.containsKey("privileged") && bool(e.get("privileged")),
                        !e.containsKey("root") || bool(e.get("root")));
            }
            Policy.PortRules ports = d.ports();
            if (c.containsKey("ports")) {
                Map<String, Node> p = object(c.get("ports"), Set.of("hostIps", "range", "privileged"));
                List<String> ips = new ArrayList<>();
                if (p.containsKey("hostIps")) {
                    for (Node i : list(p.get("hostIps"))) {
                        String ip = string(i);
                        if (!ip.matches("([0-9]{1,3}\\.){3}[0-9]{1,3}")) {
                            throw error(i, "an IPv4 address such as 127.0.0.1 (0.0.0.0: every address)");
                        }
                        ips.add(ip);
                    }
                }
                int from = 1;
                int to = 65535;
                if (p.containsKey("range")) {
                    String r = p.get("range").value() instanceof java.math.BigDecimal b ? b.toPlainString() : string(p.get("range"));
                    if (!r.matches("[0-9]{1,5}(-[0-9]{1,5})?")) {
                        throw error(p.get("range"), "a port or a range such as 8000-8999");
                    }
                    String[] fromTo = r.split("-");
                    from = Integer.parseInt(fromTo[0]);
                    to = Integer.parseInt(fromTo[fromTo.length - 1]);
                    if (from < 1 || to > 65535 || to < from) {
                        throw error(p.get("range"), "ports from 1 to 65535, the first not above the last");
                    }
                }
                ports = new Policy.PortRules(ips, from, to, p.containsKey("privileged") && bool(p.get("privileged")));
            }
            return new Policy.Constraints(unrestricted,
                    c.containsKey("privileged") && bool(c.get("privileged")),
                    mounts, namespaces, caps,
                    c.containsKey("devices") && bool(c.get("devices")),
                    c.containsKey("unconfined") && bool(c.get("unconfined")),
                    c.containsKey("sysctls") && bool(c.get("sysctls")),
                    c.containsKey("oom") && bool(c.get("oom")),
                    c.containsKey("cgroupParent") && bool(c.get("cgroupParent")),
                    runtimes,
                    !c.containsKey("root") || bool(c.get("root")),
                    images, registries, memory, cpus, pids, exec, ports);
        }

        private Policy.Resource resource(Node n, String kind) {
            Map<String, Node> r = object(n, Set.of("required", "max"));
            boolean required = r.containsKey("required") && bool(r.get("required"));
            OptionalLong max = OptionalLong.empty();
            if (r.containsKey("max")) {
                Node m = r.get("max");
                switch (kind) {
                    case "memory" -> {
                        String text = m.value() instanceof BigDecimal d ? d.toPlainString() : string(m);
                        try {
                            max = OptionalLong.of(Sizes.parseBytes(text));
                        } catch (IllegalArgumentException e) {
                            throw error(m, e.getMessage());
                        }
                    }
                    case "cpus" -> {
                        BigDecimal v;
                        try {
                            v = m.value() instanceof BigDecimal d ? d : new BigDecimal(string(m));
                        } catch (NumberFormatException e) {
                            throw error(m, "must be a number of CPUs such as 0.5 or 2");
                        }
                        if (v.signum() <= 0) {
                            throw error(m, "must be more than 0");
                        }
                        max = OptionalLong.of(v.movePointRight(9).longValue());
                    }
                    default -> max = OptionalLong.of(count(m, 1));
                }
            }
            if (!required && max.isEmpty()) {
                throw error(n, "give required: true, a max, or both");
            }
            return new Policy.Resource(required, max);
        }

        private Policy.Limits limits(Node n) {
            Map<String, Node> l = object(n, Set.of("rate", "burst", "streams", "containers"));
            OptionalLong rate = optCount(l, "rate");
            if (rate.isPresent() && rate.getAsLong() < 1) {
                throw error(l.get("rate"), "must be at least 1 request per second");
            }
            OptionalLong burst = optCount(l, "burst");
            if (burst.isPresent() && rate.isEmpty()) {
                throw error(l.get("burst"), "burst needs a rate");
            }
            return new Policy.Limits(rate, burst, optCount(l, "streams"), optCount(l, "containers"));
        }
    }

    static String normaliseFingerprint(String text) {
        String s = text.toLowerCase(Locale.ROOT);
        if (s.startsWith("sha256:")) {
            s = s.substring(7);
        }
        return s.replace(":", "");
    }

    /** NET_ADMIN from net_admin or CAP_NET_ADMIN. */
    public static String normaliseCapability(String text) {
        String s = text.toUpperCase(Locale.ROOT);
        return s.startsWith("CAP_") ? s.substring(4) : s;
    }

    /** The fingerprint form subjects compare against: 64 lower-case hex digits. */
    public static String fingerprint(String text) {
        return normaliseFingerprint(text);
    }
}
