package io.dockgate.config;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Builds a {@link DaemonConfig} from command-line flags and an optional JSON configuration file,
 * as dockerd does: an unknown key, a value of the wrong type or a key set both by a flag and in the
 * file stops the start with a message that names the file, the line and the key.
 */
public final class DaemonConfigLoader {
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());
    private static final Set<String> LOG_LEVELS = Set.of("debug", "info", "warn", "error", "fatal");

    private DaemonConfigLoader() {
    }

    /** A value together with where it came from, for error messages. */
    private record Sourced(Object value, String source) {
    }

    /**
     * @param flags      values given on the command line, keyed by configuration key
     * @param configFile the file named by {@code --config-file}, or empty to use the default file if it exists
     */
    public static DaemonConfig load(Map<ConfigKey, Object> flags, Optional<Path> configFile) {
        Map<ConfigKey, Sourced> values = new EnumMap<>(ConfigKey.class);
        Optional<Path> fileRead = Optional.empty();
        Path file = configFile.orElse(DaemonConfig.DEFAULT_CONFIG_FILE);
        if (configFile.isPresent() || Files.exists(file)) {
            Map<ConfigKey, Sourced> fromFile = readFile(file);
            List<String> conflicts = new ArrayList<>();
            for (Map.Entry<ConfigKey, Sourced> e : fromFile.entrySet()) {
                if (flags.containsKey(e.getKey())) {
                    conflicts.add(e.getKey().key() + ": (from flag: " + flags.get(e.getKey()) + ", from file: "
                            + e.getValue().value() + ")");
                }
            }
            if (!conflicts.isEmpty()) {
                throw new ConfigException("the following directives are specified both as a flag and in the configuration file "
                        + file + ": " + String.join(", ", conflicts));
            }
            values.putAll(fromFile);
            fileRead = Optional.of(file);
        }
        flags.forEach((k, v) -> values.put(k, new Sourced(v, "flag " + k.flag())));
        return validate(values, fileRead);
    }

    /** Reads and type-checks the file; does not apply semantic rules. */
    static Map<ConfigKey, Sourced> readFile(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException("configuration file " + file + " does not exist");
        } catch (IOException e) {
            throw new ConfigException("cannot read configuration file " + file + ": " + e.getMessage(), e);
        }
        Map<ConfigKey, Sourced> values = new LinkedHashMap<>();
        try (JsonParser parser = JSON.createParser(text)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new ConfigException(file + ": the configuration must be a JSON object");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonLocation at = parser.currentTokenLocation();
                String where = file + ":" + at.getLineNr() + ": key \"" + name + "\"";
                ConfigKey key = ConfigKey.byKey(name).orElseThrow(() ->
                        new ConfigException(where + " is not a known configuration option"));
                parser.nextToken();
                JsonNode node = JSON.readTree(parser);
                values.put(key, new Sourced(convert(key, node, where), where));
            }
            if (parser.nextToken() != null) {
                throw new ConfigException(file + ": unexpected content after the JSON object");
            }
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw new ConfigException(file + (at != null ? ":" + at.getLineNr() : "") + ": invalid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ConfigException("cannot read configuration file " + file + ": " + e.getMessage(), e);
        }
        return values;
    }

    private static Object convert(ConfigKey key, JsonNode node, String where) {
        switch (key.type()) {
            case STRING -> {
                if (!node.isTextual()) {
                    throw wrongType(key, node, where);
                }
                return node.textValue();
            }
            case BOOLEAN -> {
                if (!node.isBoolean()) {
                    throw wrongType(key, node, where);
                }
                return node.booleanValue();
            }
            case STRING_LIST -> {
                if (!node.isArray()) {
                    throw wrongType(key, node, where);
                }
                List<String> list = new ArrayList<>();
                for (JsonNode item : node) {
                    if (!item.isTextual()) {
                        throw new ConfigException(where + " must be " + key.type().description() + ", found an element of type "
                                + item.getNodeType().name().toLowerCase(Locale.ROOT));
                    }
                    list.add(item.textValue());
                }
                return List.copyOf(list);
            }
            case INTEGER -> {
                if (!node.isIntegralNumber() || !node.canConvertToInt()) {
                    throw wrongType(key, node, where);
                }
                return node.intValue();
            }
            default -> throw new IllegalStateException(key.type().name());
        }
    }

    private static ConfigException wrongType(ConfigKey key, JsonNode node, String where) {
        return new ConfigException(where + " must be " + key.type().description() + ", found "
                + node.getNodeType().name().toLowerCase(Locale.ROOT));
    }

    private static DaemonConfig validate(Map<ConfigKey, Sourced> values, Optional<Path> fileRead) {
        boolean tlsVerify = bool(values, ConfigKey.TLS_VERIFY);
        boolean insecure = bool(values, ConfigKey.INSECURE_TCP_LOOPBACK);

        Optional<DaemonConfig.TlsConfig> tls = Optional.empty();
        if (tlsVerify) {
            Path ca = requiredPath(values, ConfigKey.TLS_CA_CERT);
            Path cert = requiredPath(values, ConfigKey.TLS_CERT);
            Path key = requiredPath(values, ConfigKey.TLS_KEY);
            Optional<Path> crl = optionalPath(values, ConfigKey.TLS_CRL);
            tls = Optional.of(new DaemonConfig.TlsConfig(ca, cert, key, crl));
        } else {
            for (ConfigKey k : List.of(ConfigKey.TLS_CA_CERT, ConfigKey.TLS_CERT, ConfigKey.TLS_KEY, ConfigKey.TLS_CRL)) {
                if (values.containsKey(k)) {
                    throw new ConfigException(values.get(k).source() + " is set but TLS verification is off: add "
                            + ConfigKey.TLS_VERIFY.flag() + " (dockgate serves TCP with mutual TLS only)");
                }
            }
        }

        List<ListenAddress> hosts = new ArrayList<>();
        @SuppressWarnings("unchecked")
        List<String> hostTexts = values.containsKey(ConfigKey.HOSTS)
                ? (List<String>) values.get(ConfigKey.HOSTS).value() : List.of(DaemonConfig.DEFAULT_SOCKET);
        String hostSource = values.containsKey(ConfigKey.HOSTS) ? values.get(ConfigKey.HOSTS).source() : "default -H";
        if (hostTexts.isEmpty()) {
            throw new ConfigException(hostSource + ": at least one listen address is needed");
        }
        for (String text : hostTexts) {
            ListenAddress address = ListenAddress.parse(text.trim(), tlsVerify, hostSource);
            if (address instanceof ListenAddress.Tcp tcp && !tlsVerify) {
                if (!tcp.isLoopback()) {
                    throw new ConfigException(hostSource + ": " + tcp + ": a TCP listener requires mutual TLS (--tlsverify with "
                            + "--tlscacert, --tlscert and --tlskey); plain TCP is allowed only on a loopback address "
                            + "with --insecure-tcp-loopback");
                }
                if (!insecure) {
                    throw new ConfigException(hostSource + ": " + tcp + ": plain TCP without --tlsverify lets any local process "
                            + "drive the daemon anonymously; add --tlsverify, or --insecure-tcp-loopback to accept that");
                }
            }
            if (hosts.contains(address)) {
                throw new ConfigException(hostSource + ": " + address + " is listed twice");
            }
            hosts.add(address);
        }

        String logLevel = values.containsKey(ConfigKey.LOG_LEVEL) ? str(values, ConfigKey.LOG_LEVEL) : "info";
        if (!LOG_LEVELS.contains(logLevel)) {
            throw new ConfigException(values.get(ConfigKey.LOG_LEVEL).source() + ": log level \"" + logLevel
                    + "\" is not one of debug, info, warn, error, fatal");
        }
        if (bool(values, ConfigKey.DEBUG)) {
            logLevel = "debug";
        }
        String group = values.containsKey(ConfigKey.GROUP) ? str(values, ConfigKey.GROUP) : DaemonConfig.DEFAULT_GROUP;
        if (group.isBlank()) {
            throw new ConfigException(values.get(ConfigKey.GROUP).source() + ": the group must not be empty");
        }
        Path dataRoot = optionalPath(values, ConfigKey.DATA_ROOT).orElse(DaemonConfig.DEFAULT_DATA_ROOT);
        long maxBody = DaemonConfig.DEFAULT_MAX_REQUEST_BODY;
        if (values.containsKey(ConfigKey.MAX_REQUEST_BODY)) {
            try {
                maxBody = Sizes.parseBytes(str(values, ConfigKey.MAX_REQUEST_BODY));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(values.get(ConfigKey.MAX_REQUEST_BODY).source() + ": " + e.getMessage());
            }
            if (maxBody < 1024) {
                throw new ConfigException(values.get(ConfigKey.MAX_REQUEST_BODY).source() + ": must be at least 1k");
            }
        }
        DaemonConfig.AuthzConfig authz = new DaemonConfig.AuthzConfig(optionalPath(values, ConfigKey.AUTHZ_POLICY),
                bool(values, ConfigKey.AUTHZ_DRY_RUN),
                optionalPath(values, ConfigKey.AUDIT_LOG).orElse(dataRoot.resolve("audit").resolve("audit.log")), maxBody);
        if (authz.dryRun() && authz.policy().isEmpty()) {
            throw new ConfigException(values.get(ConfigKey.AUTHZ_DRY_RUN).source() + ": dry-run needs a policy ("
                    + ConfigKey.AUTHZ_POLICY.flag() + ")");
        }
        DaemonConfig.ConnectionLimits connections = new DaemonConfig.ConnectionLimits(
                count(values, ConfigKey.MAX_CONNECTIONS_PER_IDENTITY, DaemonConfig.DEFAULT_MAX_CONNECTIONS_PER_IDENTITY, 1_000_000),
                count(values, ConfigKey.IDLE_CONNECTION_TIMEOUT, DaemonConfig.DEFAULT_IDLE_CONNECTION_TIMEOUT, 30 * 24 * 3600),
                count(values, ConfigKey.MAX_CONCURRENT_HANDSHAKES, DaemonConfig.DEFAULT_MAX_CONCURRENT_HANDSHAKES, 1_000_000),
                count(values, ConfigKey.MAX_CONCURRENT_HANDSHAKES_PER_IP, DaemonConfig.DEFAULT_MAX_CONCURRENT_HANDSHAKES_PER_IP, 1_000_000));
        return new DaemonConfig(hosts, tls, insecure, group, dataRoot,
                optionalPath(values, ConfigKey.EXEC_ROOT).orElse(DaemonConfig.DEFAULT_EXEC_ROOT),
                optionalPath(values, ConfigKey.PIDFILE).orElse(DaemonConfig.DEFAULT_PIDFILE),
                logLevel, fileRead, authz, connections, network(values), maxBuildContext(values), upstream(values), registry(values));
    }

    /** The registry keys: mirrors as http(s) URLs, insecure registries as host[:port] or IPv4 CIDRs. */
    private static DaemonConfig.RegistryConfig registry(Map<ConfigKey, Sourced> values) {
        List<String> mirrors = new java.util.ArrayList<>();
        for (String m : strings(values, ConfigKey.REGISTRY_MIRRORS)) {
            String url = m.endsWith("/") ? m.substring(0, m.length() - 1) : m;
            java.net.URI uri;
            try {
                uri = new java.net.URI(url);
            } catch (java.net.URISyntaxException e) {
                uri = null;
            }
            if (uri == null || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null
                    || uri.getRawUserInfo() != null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
                boolean secret = uri != null && uri.getRawUserInfo() != null;
                throw new ConfigException(values.get(ConfigKey.REGISTRY_MIRRORS).source() + ": a mirror is an http:// or https:// URL"
                        + " without credentials, found " + (secret ? "one with credentials (not shown)" : m));
            }
            mirrors.add(url);
        }
        List<String> insecure = new java.util.ArrayList<>();
        for (String r : strings(values, ConfigKey.INSECURE_REGISTRIES)) {
            boolean cidr = r.matches("([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}");
            boolean host = r.matches("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?");
            if (!cidr && !host) {
                throw new ConfigException(values.get(ConfigKey.INSECURE_REGISTRIES).source() + ": a registry host[:port] or an IPv4 CIDR,"
                        + " found " + r);
            }
            insecure.add(r);
        }
        Path certs = optionalPath(values, ConfigKey.REGISTRY_CERTS_DIR).orElse(DaemonConfig.RegistryConfig.DEFAULT_CERTS_DIR);
        int attempts = DaemonConfig.RegistryConfig.DEFAULT_MAX_ATTEMPTS;
        if (values.containsKey(ConfigKey.MAX_DOWNLOAD_ATTEMPTS)) {
            Sourced v = values.get(ConfigKey.MAX_DOWNLOAD_ATTEMPTS);
            if (!(v.value() instanceof Number n) || n.longValue() < 1 || n.longValue() > 100) {
                throw new ConfigException(v.source() + ": must be a whole number from 1 to 100, found " + v.value());
            }
            attempts = n.intValue();
        }
        return new DaemonConfig.RegistryConfig(mirrors, insecure, certs, attempts);
    }

    @SuppressWarnings("unchecked")
    private static List<String> strings(Map<ConfigKey, Sourced> values, ConfigKey key) {
        return values.containsKey(key) ? (List<String>) values.get(key).value() : List.of();
    }

    /** {@code --upstream}: unix:///path or tcp://host:port, with mutual TLS for TCP beyond loopback. */
    private static Optional<DaemonConfig.Upstream> upstream(Map<ConfigKey, Sourced> values) {
        List<ConfigKey> tlsKeys = List.of(ConfigKey.UPSTREAM_TLS_CA_CERT, ConfigKey.UPSTREAM_TLS_CERT, ConfigKey.UPSTREAM_TLS_KEY);
        if (!values.containsKey(ConfigKey.UPSTREAM)) {
            for (ConfigKey k : tlsKeys) {
                if (values.containsKey(k)) {
                    throw new ConfigException(values.get(k).source() + " is set but there is no upstream (" + ConfigKey.UPSTREAM.flag() + ")");
                }
            }
            return Optional.empty();
        }
        String source = values.get(ConfigKey.UPSTREAM).source();
        String text = str(values, ConfigKey.UPSTREAM).trim();
        long tlsGiven = tlsKeys.stream().filter(values::containsKey).count();
        if (tlsGiven != 0 && tlsGiven != tlsKeys.size()) {
            throw new ConfigException(source + ": the upstream's TLS needs all of " + ConfigKey.UPSTREAM_TLS_CA_CERT.flag() + ", "
                    + ConfigKey.UPSTREAM_TLS_CERT.flag() + " and " + ConfigKey.UPSTREAM_TLS_KEY.flag());
        }
        Optional<DaemonConfig.UpstreamTls> tls = tlsGiven == 0 ? Optional.empty() : Optional.of(new DaemonConfig.UpstreamTls(
                requiredPath(values, ConfigKey.UPSTREAM_TLS_CA_CERT), requiredPath(values, ConfigKey.UPSTREAM_TLS_CERT),
                requiredPath(values, ConfigKey.UPSTREAM_TLS_KEY)));
        if (text.startsWith("unix://")) {
            String path = text.substring("unix://".length());
            if (!path.startsWith("/")) {
                throw new ConfigException(source + ": " + text + ": the upstream's socket needs an absolute path (unix:///var/run/docker.sock)");
            }
            if (tls.isPresent()) {
                throw new ConfigException(source + ": TLS to the upstream applies to tcp:// only, not to " + text);
            }
            return Optional.of(new DaemonConfig.Upstream(Optional.of(Path.of(path)), Optional.empty(), 0, Optional.empty()));
        }
        if (text.startsWith("tcp://")) {
            ListenAddress parsed = ListenAddress.parse(text, tls.isPresent(), source);
            if (!(parsed instanceof ListenAddress.Tcp tcp) || tcp.port() == 0) {
                throw new ConfigException(source + ": " + text + ": the upstream needs a host and a port (tcp://host:2376)");
            }
            if (tls.isEmpty() && !tcp.isLoopback()) {
                throw new ConfigException(source + ": " + text + ": an upstream beyond loopback needs mutual TLS ("
                        + ConfigKey.UPSTREAM_TLS_CA_CERT.flag() + ", " + ConfigKey.UPSTREAM_TLS_CERT.flag() + ", "
                        + ConfigKey.UPSTREAM_TLS_KEY.flag() + ")");
            }
            return Optional.of(new DaemonConfig.Upstream(Optional.empty(), Optional.of(tcp.host()), tcp.port(), tls));
        }
        throw new ConfigException(source + ": " + text + ": the upstream is unix:///path or tcp://host:port");
    }

    private static long maxBuildContext(Map<ConfigKey, Sourced> values) {
        if (!values.containsKey(ConfigKey.MAX_BUILD_CONTEXT)) {
            return DaemonConfig.DEFAULT_MAX_BUILD_CONTEXT;
        }
        long bytes;
        try {
            bytes = Sizes.parseBytes(str(values, ConfigKey.MAX_BUILD_CONTEXT));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(values.get(ConfigKey.MAX_BUILD_CONTEXT).source() + ": " + e.getMessage());
        }
        if (bytes < 1024) {
            throw new ConfigException(values.get(ConfigKey.MAX_BUILD_CONTEXT).source() + ": must be at least 1k");
        }
        return bytes;
    }

    /** A whole number from 0 (no limit) to max, or the default when not set. */
    private static int count(Map<ConfigKey, Sourced> values, ConfigKey key, int defaultValue, int max) {
        if (!values.containsKey(key)) {
            return defaultValue;
        }
        Sourced v = values.get(key);
        if (!(v.value() instanceof Number n) || n.longValue() < 0 || n.longValue() > max) {
            throw new ConfigException(v.source() + ": must be a whole number from 0 (no limit) to " + max + ", found " + v.value());
        }
        return n.intValue();
    }

    private static DaemonConfig.NetworkConfig network(Map<ConfigKey, Sourced> values) {
        String bridge = values.containsKey(ConfigKey.BRIDGE) ? str(values, ConfigKey.BRIDGE) : DaemonConfig.DEFAULT_BRIDGE;
        if (!bridge.equals("none") && (bridge.isEmpty() || bridge.length() > 15 || !bridge.matches("[a-zA-Z0-9_.-]+"))) {
            throw new ConfigException(values.get(ConfigKey.BRIDGE).source() + ": a bridge name of at most 15 of [a-zA-Z0-9_.-], or none");
        }
        Optional<String> bip = Optional.empty();
        if (values.containsKey(ConfigKey.BIP)) {
            String v = str(values, ConfigKey.BIP);
            if (!v.matches("([0-9]{1,3}\\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|30)")
                    || java.util.Arrays.stream(v.substring(0, v.indexOf('/')).split("\\.")).anyMatch(b -> Integer.parseInt(b) > 255)) {
                throw new ConfigException(values.get(ConfigKey.BIP).source() + ": an IPv4 address with a prefix length up to 30,"
                        + " such as 172.30.0.1/16, found " + v);
            }
            if (bridge.equals("none")) {
                throw new ConfigException(values.get(ConfigKey.BIP).source() + ": there is no default bridge (--bridge none)");
            }
            bip = Optional.of(v);
        }
        boolean iptables = !values.containsKey(ConfigKey.IPTABLES) || bool(values, ConfigKey.IPTABLES);
        List<String> dns = new java.util.ArrayList<>();
        if (values.containsKey(ConfigKey.DNS)) {
            @SuppressWarnings("unchecked")
            List<String> given = (List<String>) values.get(ConfigKey.DNS).value();
            for (String a : given) {
                if (!a.matches("([0-9]{1,3}\\.){3}[0-9]{1,3}")) {
                    throw new ConfigException(values.get(ConfigKey.DNS).source() + ": an IPv4 address, found " + a);
                }
                dns.add(a);
            }
        }
        return new DaemonConfig.NetworkConfig(bridge, bip, iptables, List.copyOf(dns));
    }

    private static boolean bool(Map<ConfigKey, Sourced> values, ConfigKey key) {
        return values.containsKey(key) && (Boolean) values.get(key).value();
    }

    private static String str(Map<ConfigKey, Sourced> values, ConfigKey key) {
        return (String) values.get(key).value();
    }

    private static Path requiredPath(Map<ConfigKey, Sourced> values, ConfigKey key) {
        return optionalPath(values, key).orElseThrow(() -> new ConfigException(
                "TLS verification is on but " + key.flag() + " (\"" + key.key() + "\") is not set"));
    }

    private static Optional<Path> optionalPath(Map<ConfigKey, Sourced> values, ConfigKey key) {
        if (!values.containsKey(key)) {
            return Optional.empty();
        }
        String text = str(values, key);
        if (text.isBlank()) {
            throw new ConfigException(values.get(key).source() + ": the path must not be empty");
        }
        Path path = Path.of(text);
        if (!path.isAbsolute()) {
            path = path.toAbsolutePath();
        }
        return Optional.of(path.normalize());
    }
}
