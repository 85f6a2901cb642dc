package io.dockgate.gateway.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.container.ContainerSpec;
import io.dockgate.gateway.authz.Facts;
import io.dockgate.gateway.authz.RequestFacts;
import io.dockgate.gateway.authz.Target;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The authorizer's facts in upstream mode, asked of the upstream over its API on the daemon's own
 * connections (so they run on worker threads): who owns a container, exec, volume or network (its owner
 * label), an image's user and tags, a container's user, mounts and resources. A target found is
 * returned with its full ID, and that ID (not the caller's name or prefix) is what the forwarded
 * request acts on, so the object judged is the object acted on.
 */
public final class UpstreamFacts implements Facts {
    private static final Set<String> PREDEFINED_NETWORKS = Set.of("bridge", "host", "none");
    private final Upstream upstream;
    private final UpstreamState state;
    /** The namespace image names are read in (the common one sees every image). */
    private final UpstreamImages.View view;

    public UpstreamFacts(Upstream upstream, UpstreamState state) {
        this(upstream, state, state.images().view(io.dockgate.engine.image.ImageNamespace.COMMON));
    }

    private UpstreamFacts(Upstream upstream, UpstreamState state, UpstreamImages.View view) {
        this.upstream = upstream;
        this.state = state;
        this.view = view;
    }

    @Override
    public RequestFacts.Lookups inImages(io.dockgate.engine.image.ImageNamespace namespace) {
        return namespace.common() && view.common() ? this : new UpstreamFacts(upstream, state, state.images().view(namespace));
    }

    /** A volume's owner: its label, else the record of the volumes the upstream made for a container. */
    private String volumeOwner(JsonNode v) {
        String labelled = owner(v.path("Labels"));
        return labelled != null ? labelled : state.volumes().owner(v.path("Name").asText());
    }

    /** An image by name, ID, prefix or digest, as the namespace reaches it; null when missing to it. */
    private JsonNode image(String reference) {
        JsonNode i;
        try {
            i = get("/images/" + imagePath(reference) + "/json");
        } catch (EngineException e) {
            return null; // an ambiguous prefix reveals nothing
        }
        return i == null || view.reaches(reference, i) ? i : null;
    }

    @Override
    public boolean imageReachable(String reference) {
        return view.common() || image(reference) != null;
    }

    @Override
    public boolean repositoryTagged(String repository, String tag) {
        if (view.common()) {
            return true;
        }
        if (tag != null && !tag.isEmpty()) {
            String name = repository + ":" + tag;
            return view.nameVisible(name) && image(name) != null;
        }
        String filter = "{\"reference\":[\"" + repository.replace("\\", "\\\\").replace("\"", "\\\"") + "\"]}";
        JsonNode list = get("/images/json?filters=" + enc(filter));
        if (list != null) {
            for (JsonNode i : list) {
                if (!view.visibleTags(i.path("RepoTags")).isEmpty()) {
                    return true;
                }
            }
        }
        return false;
    }

    @Override
    public boolean blocking() {
        return true;
    }

    private JsonNode get(String uri) {
        return upstream.getJsonBlocking(uri);
    }

    private static String enc(String s) {
        return Forwarder.encode(s);
    }

    @Override
    public Target target(Target.Kind kind, Map<String, String> params, String owner) {
        String ref = kind.reference(params);
        if (ref == null) {
            return Target.NONE;
        }
        if (ref.isEmpty()) {
            return Target.missing();
        }
        return switch (kind) {
            case NONE -> Target.NONE;
            case CONTAINER, CONTAINER_IN_QUERY -> {
                JsonNode c = container(ref, owner);
                yield c == null ? Target.missing() : Target.ownedBy(owner(c.path("Config").path("Labels"))).withId(c.path("Id").asText());
            }
            case EXEC -> {
                JsonNode e = get("/exec/" + enc(ref) + "/json");
                JsonNode c = e == null ? null : container(e.path("ContainerID").asText(), null);
                yield c == null ? Target.missing() : Target.ownedBy(owner(c.path("Config").path("Labels"))).withId(e.path("ID").asText());
            }
            case VOLUME -> {
                JsonNode v = get("/volumes/" + enc(ref));
                yield v == null ? Target.missing() : Target.ownedBy(volumeOwner(v)).withId(v.path("Name").asText());
            }
            case NETWORK -> {
                if (ref.equals("host") || ref.equals("none")) {
                    yield Target.everyones();
                }
                JsonNode n = get("/networks/" + enc(ref));
                if (n == null) {
                    yield Target.missing();
                }
                yield PREDEFINED_NETWORKS.contains(n.path("Name").asText()) ? Target.everyones().withId(n.path("Id").asText())
                        : Target.ownedBy(owner(n.path("Labels"))).withId(n.path("Id").asText());
            }
        };
    }

    /**
     * A container by name, ID or prefix; null when missing. A prefix the upstream finds ambiguous (dockerd:
     * "Multiple IDs found with provided prefix") is the caller's one container with that prefix, when it has
     * exactly one; else missing: passing dockerd's answer on would tell the caller that other owners'
     * containers begin so.
     */
    private JsonNode container(String ref, String owner) {
        if (ref.isEmpty()) {
            return null;
        }
        try {
            return get("/containers/" + enc(ref) + "/json");
        } catch (EngineException e) {
            if (!String.valueOf(e.getMessage()).contains("Multiple IDs found with provided prefix")) {
                throw e;
            }
            if (owner == null || owner.isEmpty() || !ref.matches("[0-9a-f]{1,63}")) {
                return null;
            }
            String filter = "{\"label\":[\"" + Tenancy.OWNER_LABEL + "=" + owner + "\"]}";
            JsonNode own = get("/containers/json?all=1&filters=" + enc(filter));
            List<String> ids = new java.util.ArrayList<>();
            if (own != null) {
                own.forEach(c -> {
                    if (c.path("Id").asText().startsWith(ref)) {
                        ids.add(c.path("Id").asText());
                    }
                });
            }
            return ids.size() == 1 ? get("/containers/" + ids.get(0) + "/json") : null;
        }
    }

    private static String owner(JsonNode labels) {
        JsonNode o = labels.get(Tenancy.OWNER_LABEL);
        return o == null || o.isNull() ? null : o.asText();
    }

    @Override
    public Optional<String> imageUser(String reference) {
        JsonNode i = image(reference);
        return i == null ? Optional.empty() : Optional.of(i.path("Config").path("User").asText(""));
    }

    @Override
    public Optional<List<String>> imageTags(String reference) {
        JsonNode i = image(reference);
        if (i == null) {
            return Optional.empty();
        }
        return Optional.of(view.visibleTags(i.path("RepoTags")));
    }

    /** An image reference as a path: its slashes kept (dockerd's route takes the rest of the path). */
    static String imagePath(String reference) {
        StringBuilder b = new StringBuilder();
        String[] parts = reference.split("/", -1);
        for (int i = 0; i < parts.length; i++) {
            b.append(i == 0 ? "" : "/").append(enc(parts[i]));
        }
        return b.toString();
    }

    @Override
    public Optional<String> containerUser(String reference) {
        return Optional.ofNullable(container(reference, null)).map(c -> c.path("Config").path("User").asText(""));
    }

    @Override
    public Optional<RequestFacts.ExecView> exec(String execId) {
        JsonNode e = execId == null || execId.isEmpty() ? null : get("/exec/" + enc(execId) + "/json");
        if (e == null) {
            return Optional.empty();
        }
        JsonNode p = e.path("ProcessConfig");
        return Optional.of(new RequestFacts.ExecView(p.path("privileged").asBoolean(false), p.path("user").asText(""),
                e.path("ContainerID").asText()));
    }

    @Override
    public Optional<String> containerOwner(String reference) {
        return Optional.ofNullable(container(reference, null)).map(c -> owner(c.path("Config").path("Labels")));
    }

    @Override
    public Optional<Map<String, String>> volumeLabels(String name) {
        JsonNode v = name == null || name.isEmpty() ? null : get("/volumes/" + enc(name));
        if (v == null) {
            return Optional.empty();
        }
        // in the authorizer's vocabulary: the owner under the embedded engine's label, and only as recorded here
        Map<String, String> labels = new LinkedHashMap<>();
        v.path("Labels").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
        labels.remove(io.dockgate.gateway.authz.Authorizer.OWNER_LABEL);
        String owner = labels.remove(Tenancy.OWNER_LABEL);
        if (owner == null) {
            owner = state.volumes().owner(v.path("Name").asText(name));
        }
        if (owner != null) {
            labels.put(io.dockgate.gateway.authz.Authorizer.OWNER_LABEL, owner);
        }
        return Optional.of(labels);
    }

    @Override
    public long ownedContainers(String owner) {
        String filters = "{\"label\":{\"" + Tenancy.OWNER_LABEL + "=" + owner.replace("\\", "\\\\").replace("\"", "\\\"") + "\":true}}";
        JsonNode list = get("/containers/json?all=1&filters=" + enc(filters));
        return list == null ? 0 : list.size();
    }

    @Override
    public Optional<List<ContainerSpec.Mount>> containerMounts(String reference) {
        return Optional.ofNullable(container(reference, null)).map(UpstreamFacts::mounts);
    }

    private static List<ContainerSpec.Mount> mounts(JsonNode c) {
        List<ContainerSpec.Mount> out = new ArrayList<>();
        for (JsonNode m : c.path("Mounts")) {
            String type = m.path("Type").asText();
            String source = type.equals(ContainerSpec.Mount.VOLUME) ? m.path("Name").asText() : m.path("Source").asText();
            out.add(new ContainerSpec.Mount(type, source, m.path("Destination").asText(), !m.path("RW").asBoolean(true)));
        }
        return out;
    }

    @Override
    public Optional<ContainerSpec.Host> containerHost(String reference) {
        JsonNode c = container(reference, null);
        if (c == null) {
            return Optional.empty();
        }
        JsonNode h = c.path("HostConfig");
        return Optional.of(ContainerSpec.Host.builder()
                .networkMode(h.path("NetworkMode").asText("default"))
                .memory(h.path("Memory").asLong())
                .memorySwap(h.path("MemorySwap").asLong())
                .cpuShares(h.path("CpuShares").asLong())
                .cpuQuota(h.path("CpuQuota").asLong())
                .cpuPeriod(h.path("CpuPeriod").asLong())
                .pidsLimit(h.path("PidsLimit").asLong())
                .nanoCpus(h.path("NanoCpus").asLong())
                .mounts(mounts(c))
                .build());
    }

    @Override
    public Optional<String> networkOwner(String reference) {
        if (reference.equals("bridge") || reference.equals("default") || reference.equals("host") || reference.equals("none")) {
            return Optional.of("");
        }
        JsonNode n = get("/networks/" + enc(reference));
        if (n == null) {
            return Optional.empty();
        }
        String owner = PREDEFINED_NETWORKS.contains(n.path("Name").asText()) ? null : owner(n.path("Labels"));
        return Optional.of(owner == null ? "" : owner);
    }
}
