package io.dockgate.gateway.authz;

import io.dockgate.engine.Engine;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.container.ContainerRecord;
import io.dockgate.engine.image.Image;
import io.dockgate.engine.image.Reference;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The engine facts the authorizer needs, read from the engine's in-memory indexes (no disk, no
 * blocking): the owner of a request's target container or exec, image users and tags, container users
 * and how many containers an owner has.
 */
public final class EngineFacts implements Facts {
    private final Engine engine;
    private final io.dockgate.engine.image.ImageNamespace images;

    public EngineFacts(Engine engine) {
        this(engine, io.dockgate.engine.image.ImageNamespace.COMMON);
    }

    private EngineFacts(Engine engine, io.dockgate.engine.image.ImageNamespace images) {
        this.engine = engine;
        this.images = images;
    }

    @Override
    public RequestFacts.Lookups inImages(io.dockgate.engine.image.ImageNamespace namespace) {
        return namespace.equals(images) ? this : new EngineFacts(engine, namespace);
    }

    @Override
    public Target target(Target.Kind kind, Map<String, String> params, String owner) {
        String ref = kind.reference(params);
        if (ref == null) {
            return Target.NONE;
        }
        return switch (kind) {
            case NONE -> Target.NONE;
            case VOLUME -> volumeLabels(ref).map(l -> Target.ownedBy(l.get(Authorizer.OWNER_LABEL))).orElse(Target.missing());
            case CONTAINER, CONTAINER_IN_QUERY -> container(ref).map(c -> Target.ownedBy(ownerOf(c)))
                    .orElseGet(() -> ownContainer(ref, owner).map(c -> Target.ownedBy(ownerOf(c)).withId(c.id())).orElse(Target.missing()));
            case EXEC -> exec(ref).flatMap(e -> container(e.containerId())).map(c -> Target.ownedBy(ownerOf(c)))
                    .orElse(Target.missing());
            case NETWORK -> network(ref);
        };
    }

    @Override
    public Optional<String> networkOwner(String reference) {
        if (reference.equals("bridge") || reference.equals("default")) {
            return Optional.of("");
        }
        try {
            io.dockgate.engine.net.NetworkRecord n = engine.networks().find(reference);
            if (n == null) {
                return Optional.empty();
            }
            String owner = n.labelsOrEmpty().get(Authorizer.OWNER_LABEL);
            return Optional.of(n.isDefault() || owner == null ? "" : owner);
        } catch (EngineException e) {
            return Optional.empty();
        }
    }

    private Target network(String ref) {
        if (ref.equals("host") || ref.equals("none")) {
            return Target.everyones();
        }
        try {
            io.dockgate.engine.net.NetworkRecord n = engine.networks().find(ref);
            if (n == null) {
                return Target.missing();
            }
            return n.isDefault() ? Target.everyones() : Target.ownedBy(n.labelsOrEmpty().get(Authorizer.OWNER_LABEL));
        } catch (EngineException e) {
            return Target.missing(); // an ambiguous prefix reveals nothing
        }
    }

    private static String ownerOf(ContainerRecord c) {
        return c.spec().labels() == null ? null : c.spec().labels().get(Authorizer.OWNER_LABEL);
    }

    @Override
    public Optional<io.dockgate.engine.container.ContainerSpec.Host> containerHost(String reference) {
        return container(reference).map(c -> c.spec().host());
    }

    /** The caller's one container whose ID starts with an ID prefix that several containers share; empty otherwise. */
    private Optional<ContainerRecord> ownContainer(String prefix, String owner) {
        if (owner == null || owner.isEmpty() || !prefix.matches("[0-9a-f]{1,63}")) {
            return Optional.empty();
        }
        List<ContainerRecord> own = engine.containers().list().stream()
                .filter(c -> c.id().startsWith(prefix) && owner.equals(ownerOf(c))).limit(2).toList();
        return own.size() == 1 ? Optional.of(own.get(0)) : Optional.empty();
    }

    private Optional<ContainerRecord> container(String ref) {
        try {
            return Optional.ofNullable(engine.containers().store().find(ref));
        } catch (EngineException e) {
            return Optional.empty(); // an ambiguous prefix: treated as missing, so it reveals nothing
        }
    }

    private Optional<Image> image(String reference) {
        try {
            return Optional.of(engine.images().resolve(images, reference));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    @Override
    public boolean imageReachable(String reference) {
        return image(reference).isPresent();
    }

    @Override
    public boolean repositoryTagged(String repository, String tag) {
        try {
            return engine.images().tagged(images, Reference.parse(repository), tag);
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public Optional<String> imageUser(String reference) {
        return image(reference).map(i -> i.runConfig().path("User").asText(""));
    }

    @Override
    public Optional<List<String>> imageTags(String reference) {
        return image(reference).map(i -> engine.images().references(images, i.id()).stream().map(Reference::familiar).toList());
    }

    @Override
    public Optional<List<io.dockgate.engine.container.ContainerSpec.Mount>> containerMounts(String reference) {
        return container(reference).map(c -> c.spec().host().mountsOrEmpty());
    }

    @Override
    public Optional<String> containerUser(String reference) {
        return container(reference).map(c -> c.spec().user() == null ? "" : c.spec().user());
    }

    @Override
    public Optional<RequestFacts.ExecView> exec(String execId) {
        try {
            var session = engine.containers().execs().get(execId);
            return Optional.of(new RequestFacts.ExecView(session.spec().privileged(),
                    session.spec().user() == null ? "" : session.spec().user(), session.containerId()));
        } catch (EngineException e) {
            return Optional.empty();
        }
    }

    @Override
    public Optional<String> containerOwner(String reference) {
        return container(reference).map(c -> c.spec().labels() == null ? null : c.spec().labels().get(Authorizer.OWNER_LABEL));
    }

    @Override
    public Optional<Map<String, String>> volumeLabels(String name) {
        var v = name == null ? null : engine.volumes().find(name);
        return v == null ? Optional.empty() : Optional.of(v.labels() == null ? Map.of() : v.labels());
    }

    @Override
    public long ownedContainers(String owner) {
        return engine.containers().list().stream()
                .filter(c -> c.spec().labels() != null && owner.equals(c.spec().labels().get(Authorizer.OWNER_LABEL)))
                .count();
    }
}
