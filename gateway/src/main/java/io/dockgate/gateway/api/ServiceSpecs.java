package io.dockgate.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.engine.EngineException;
import io.dockgate.gateway.authz.ServiceTask;
import io.dockgate.gateway.request.DockerJson;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A swarm service's spec as the authorizer judges it: its tasks' container (TaskTemplate.ContainerSpec,
 * the networks, the published ports and the resource limits) rewritten as the container create it
 * amounts to, so that every container constraint of the policy applies to services too. Fields of the
 * container spec dockgate does not know, and task runtimes other than containers (plugins), are refused:
 * nothing that reaches a host passes unjudged.
 */
public final class ServiceSpecs {
    /** ContainerSpec fields (API 1.41-1.50) and what they become in a create body ("" when they do not reach the host). */
    private static final Map<String, String> CONTAINER_SPEC = Map.ofEntries(
            Map.entry("image", "Image"), Map.entry("user", "User"), Map.entry("env", "Env"), Map.entry("command", "Entrypoint"),
            Map.entry("args", "Cmd"), Map.entry("mounts", "HostConfig.Mounts"), Map.entry("capabilityadd", "HostConfig.CapAdd"),
            Map.entry("capabilitydrop", "HostConfig.CapDrop"), Map.entry("sysctls", "HostConfig.Sysctls"),
            Map.entry("readonly", "HostConfig.ReadonlyRootfs"), Map.entry("init", "HostConfig.Init"),
            Map.entry("groups", "HostConfig.GroupAdd"), Map.entry("oomscoreadj", "HostConfig.OomScoreAdj"),
            Map.entry("ulimits", "HostConfig.Ulimits"), Map.entry("privileges", ""), Map.entry("labels", ""),
            Map.entry("hostname", ""), Map.entry("dir", ""), Map.entry("tty", ""), Map.entry("openstdin", ""),
            Map.entry("stopsignal", ""), Map.entry("stopgraceperiod", ""), Map.entry("healthcheck", ""), Map.entry("hosts", ""),
            Map.entry("dnsconfig", ""), Map.entry("secrets", ""), Map.entry("configs", ""), Map.entry("isolation", ""));
    private static final Set<String> PRIVILEGES = Set.of("credentialspec", "selinuxcontext", "seccomp", "apparmor", "nonewprivileges");

    private ServiceSpecs() {
    }

    /** A secret's or config's body: judged on nothing but the grant, forwarded as parsed. */
    public static JsonNode object(JsonNode json) {
        return json;
    }

    public static ServiceTask parse(JsonNode spec) {
        JsonNode template = DockerJson.field(spec, "TaskTemplate");
        if (template == null) {
            throw EngineException.invalid("invalid service spec: TaskTemplate is required");
        }
        JsonNode runtime = DockerJson.field(template, "Runtime");
        if (DockerJson.field(template, "PluginSpec") != null || DockerJson.field(template, "NetworkAttachmentSpec") != null
                || runtime != null && !runtime.asText().isEmpty() && !runtime.asText().equalsIgnoreCase("container")) {
            throw EngineException.invalid("service tasks other than containers (plugins, network attachments) are refused by dockgate:"
                    + " it cannot judge what they install on the nodes");
        }
        JsonNode container = DockerJson.field(template, "ContainerSpec");
        if (container == null || !container.isObject()) {
            throw EngineException.invalid("invalid service spec: TaskTemplate.ContainerSpec is required");
        }
        ObjectNode create = DockerJson.MAPPER.createObjectNode();
        ObjectNode host = create.putObject("HostConfig");
        for (Iterator<Map.Entry<String, JsonNode>> it = container.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String target = CONTAINER_SPEC.get(f.getKey().toLowerCase(Locale.ROOT));
            if (target == null) {
                throw EngineException.invalid("TaskTemplate.ContainerSpec." + f.getKey() + " is not supported by dockgate: it cannot"
                        + " judge it");
            }
            if (f.getValue().isNull() || target.isEmpty()) {
                continue;
            }
            if (target.startsWith("HostConfig.")) {
                host.set(target.substring("HostConfig.".length()), f.getValue());
            } else {
                create.set(target, f.getValue());
            }
        }
        securityOptions(DockerJson.field(container, "Privileges"), host);
        List<String> networks = new ArrayList<>();
        for (JsonNode list : new JsonNode[] {DockerJson.field(template, "Networks"), DockerJson.field(spec, "Networks")}) {
            if (list != null) {
                for (JsonNode n : list) {
                    String target = DockerJson.text(n, "Target");
                    if (target != null && !target.isEmpty()) {
                        networks.add(target);
                    }
                }
            }
        }
        if (!networks.isEmpty()) {
            host.put("NetworkMode", networks.get(0));
        }
        JsonNode limits = DockerJson.field(DockerJson.field(template, "Resources"), "Limits");
        if (limits != null) {
            host.put("Memory", DockerJson.number(limits, "MemoryBytes"));
            host.put("NanoCpus", DockerJson.number(limits, "NanoCPUs"));
            host.put("PidsLimit", DockerJson.number(limits, "Pids"));
        }
        ports(DockerJson.field(DockerJson.field(spec, "EndpointSpec"), "Ports"), create, host);
        Object translated = CreateRequest.toSpec(create);
        return new ServiceTask(create, translated, List.copyOf(networks));
    }

    /** Privileges: the security options a container would take to the same effect. */
    private static void securityOptions(JsonNode privileges, ObjectNode host) {
        if (privileges == null) {
            return;
        }
        ArrayNode opts = host.putArray("SecurityOpt");
        for (Iterator<Map.Entry<String, JsonNode>> it = privileges.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String key = f.getKey().toLowerCase(Locale.ROOT);
            if (!PRIVILEGES.contains(key)) {
                throw EngineException.invalid("TaskTemplate.ContainerSpec.Privileges." + f.getKey() + " is not supported by dockgate");
            }
            JsonNode v = f.getValue();
            if (v == null || v.isNull()) {
                continue;
            }
            switch (key) {
                case "nonewprivileges" -> {
                    if (v.asBoolean()) {
                        opts.add("no-new-privileges");
                    }
                }
                case "selinuxcontext" -> {
                    if (DockerJson.bool(v, "Disable")) {
                        opts.add("label=disable");
                    }
                    for (String part : new String[] {"User", "Role", "Type", "Level"}) {
                        String value = DockerJson.text(v, part);
                        if (value != null && !value.isEmpty()) {
                            opts.add("label=" + part.toLowerCase(Locale.ROOT) + ":" + value);
                        }
                    }
                }
                case "seccomp" -> {
                    String mode = DockerJson.text(v, "Mode");
                    if ("unconfined".equalsIgnoreCase(mode)) {
                        opts.add("seccomp=unconfined");
                    } else if ("custom".equalsIgnoreCase(mode)) {
                        throw EngineException.invalid("a custom seccomp profile for a service is not supported by dockgate");
                    }
                }
                case "apparmor" -> {
                    String mode = DockerJson.text(v, "Mode");
                    if ("disabled".equalsIgnoreCase(mode)) {
                        opts.add("apparmor=unconfined");
                    }
                }
                case "credentialspec" -> {
                    if (v.size() > 0) {
                        throw EngineException.invalid("credential specs (Windows) are not supported by dockgate");
                    }
                }
                default -> {
                }
            }
        }
    }

    /** Published ports: on every node's addresses (ingress) or the task's node (host mode): a create's port bindings. */
    private static void ports(JsonNode ports, ObjectNode create, ObjectNode host) {
        if (ports == null || !ports.isArray() || ports.isEmpty()) {
            return;
        }
        ObjectNode exposed = create.putObject("ExposedPorts");
        ObjectNode bindings = host.putObject("PortBindings");
        for (JsonNode p : ports) {
            long targetPort = DockerJson.number(p, "TargetPort");
            long published = DockerJson.number(p, "PublishedPort");
            String protocol = DockerJson.text(p, "Protocol");
            String key = targetPort + "/" + (protocol == null || protocol.isEmpty() ? "tcp" : protocol.toLowerCase(Locale.ROOT));
            exposed.putObject(key);
            ArrayNode list = bindings.has(key) ? (ArrayNode) bindings.get(key) : bindings.putArray(key);
            list.addObject().put("HostIp", "").put("HostPort", published == 0 ? "" : String.valueOf(published));
        }
    }
}
