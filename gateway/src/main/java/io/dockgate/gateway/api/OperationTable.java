package io.dockgate.gateway.api;

import static io.dockgate.gateway.http.Operation.named;

import io.dockgate.gateway.authz.ConstraintChecker;
import io.dockgate.gateway.authz.Target;
import io.dockgate.gateway.http.Operation;
import io.dockgate.gateway.http.Operation.Streaming;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every operation of the Docker API this daemon serves, each described once: the owned object its path
 * names, its body and the typed model that body becomes, whether it holds its connection or hijacks it,
 * and its judge. The handlers register their routes against these descriptors; nothing else in the
 * gateway keeps a list of operations. Adding a route: its name in the policy vocabulary
 * ({@link io.dockgate.config.policy.Operations}), its descriptor here, its handler.
 */
public final class OperationTable {
    private static final Map<String, Operation> ALL = new LinkedHashMap<>();

    public static final Operation SYSTEM_PING = add(named("system.ping"));
    public static final Operation SYSTEM_VERSION = add(named("system.version"));
    public static final Operation SYSTEM_INFO = add(named("system.info"));
    public static final Operation SYSTEM_DF = add(named("system.df"));
    public static final Operation SYSTEM_EVENTS = add(named("system.events").streaming(Streaming.ALWAYS));

    public static final Operation IMAGE_LIST = add(named("image.list"));
    public static final Operation IMAGE_INSPECT = add(named("image.inspect").judgedBy(ConstraintChecker.IMAGE_IN_PATH));
    public static final Operation IMAGE_HISTORY = add(named("image.history").judgedBy(ConstraintChecker.IMAGE_IN_PATH));
    public static final Operation IMAGE_LOAD = add(named("image.load").streamingBody());
    /** Pull (the registry's credentials in a header) or import (the archive as the body). */
    public static final Operation IMAGE_CREATE = add(named("image.create").streamingBody().judgedBy(ConstraintChecker.PULL));
    public static final Operation IMAGE_PRUNE = add(named("image.prune"));
    /** docker build: the context streamed, the request in the query (judged), the base images when the Dockerfile is read. */
    public static final Operation IMAGE_BUILD = add(named("image.build").streamingBody(BuildApi::fromQuery)
            .judgedBy(ConstraintChecker.BUILD));
    public static final Operation IMAGE_TAG = add(named("image.tag").judgedBy(ConstraintChecker.IMAGE_IN_PATH));
    public static final Operation IMAGE_DELETE = add(named("image.delete").judgedBy(ConstraintChecker.IMAGE_IN_PATH));
    public static final Operation IMAGE_SAVE = add(named("image.save"));
    /** docker push: the repository in the path, the tag in the query, the registry's credentials in a header. */
    public static final Operation IMAGE_PUSH = add(named("image.push").judgedBy(ConstraintChecker.PUSH));
    public static final Operation IMAGE_DISTRIBUTION = add(named("image.distribution").judgedBy(ConstraintChecker.DISTRIBUTION));
    public static final Operation IMAGE_SEARCH = add(named("image.search").judgedBy(ConstraintChecker.SEARCH));
    /** docker login through the daemon: the credentials in the body (an AuthConfig), checked at the registry. */
    public static final Operation REGISTRY_LOGIN = add(named("registry.login").json(RegistryApi::credentials)
            .judgedBy(ConstraintChecker.LOGIN));

    public static final Operation VOLUME_LIST = add(named("volume.list"));
    public static final Operation VOLUME_INSPECT = add(named("volume.inspect").on(Target.Kind.VOLUME));
    public static final Operation VOLUME_CREATE = add(named("volume.create").json(VolumesApi::volumeSpec).stampingOwner()
            .resolvesHostPaths().judgedBy(ConstraintChecker.VOLUME));
    public static final Operation VOLUME_PRUNE = add(named("volume.prune"));
    public static final Operation VOLUME_DELETE = add(named("volume.delete").on(Target.Kind.VOLUME));

    public static final Operation CONTAINER_LIST = add(named("container.list"));
    public static final Operation CONTAINER_CREATE = add(named("container.create").json(CreateRequest::toSpec).stampingOwner()
            .resolvesHostPaths().judgedBy(ConstraintChecker.CREATE));
    public static final Operation CONTAINER_INSPECT = add(container("container.inspect"));
    public static final Operation CONTAINER_START = add(container("container.start"));
    public static final Operation CONTAINER_STOP = add(container("container.stop"));
    public static final Operation CONTAINER_KILL = add(container("container.kill"));
    public static final Operation CONTAINER_WAIT = add(container("container.wait").streaming(Streaming.ALWAYS));
    public static final Operation CONTAINER_LOGS = add(container("container.logs").streaming(Streaming.WHEN_FOLLOW));
    public static final Operation CONTAINER_ATTACH = add(container("container.attach").hijacking());
    public static final Operation CONTAINER_RESIZE = add(container("container.resize"));
    public static final Operation CONTAINER_RESTART = add(container("container.restart"));
    public static final Operation CONTAINER_PRUNE = add(named("container.prune"));
    public static final Operation CONTAINER_PAUSE = add(container("container.pause"));
    public static final Operation CONTAINER_UNPAUSE = add(container("container.unpause"));
    public static final Operation CONTAINER_RENAME = add(container("container.rename"));
    public static final Operation CONTAINER_TOP = add(container("container.top"));
    public static final Operation CONTAINER_CHANGES = add(container("container.changes"));
    public static final Operation CONTAINER_EXPORT = add(container("container.export"));
    public static final Operation CONTAINER_DELETE = add(container("container.delete"));
    public static final Operation CONTAINER_STATS = add(container("container.stats").streaming(Streaming.UNLESS_STREAM_FALSE));
    public static final Operation CONTAINER_UPDATE = add(container("container.update").json(UpdateRequest::parse)
            .judgedBy(ConstraintChecker.UPDATE));
    /** docker commit: the container is named by the query; an optional Config body. */
    public static final Operation CONTAINER_COMMIT = add(named("container.commit").on(Target.Kind.CONTAINER_IN_QUERY)
            .json(CommitApi::config));
    public static final Operation ARCHIVE_STAT = add(container("container.archive.stat"));
    public static final Operation ARCHIVE_GET = add(container("container.archive.get"));
    public static final Operation ARCHIVE_PUT = add(container("container.archive.put").streamingBody());

    public static final Operation CONTAINER_EXEC = add(container("container.exec").json(ExecApi::execSpec)
            .judgedBy(ConstraintChecker.EXEC));
    public static final Operation EXEC_START = add(named("exec.start").on(Target.Kind.EXEC).json(ExecApi.ExecStart::parse)
            .hijacking().judgedBy(ConstraintChecker.EXEC_START));
    public static final Operation EXEC_RESIZE = add(named("exec.resize").on(Target.Kind.EXEC));
    public static final Operation EXEC_INSPECT = add(named("exec.inspect").on(Target.Kind.EXEC));

    public static final Operation NETWORK_LIST = add(named("network.list"));
    public static final Operation NETWORK_INSPECT = add(named("network.inspect").on(Target.Kind.NETWORK));
    /** Its judge reads the host's routes (/proc/net/route): on a worker, not the event loop. */
    public static final Operation NETWORK_CREATE = add(named("network.create").json(NetworksApi::networkSpec).stampingOwner()
            .resolvesHostPaths().judgedBy(ConstraintChecker.NETWORK));
    public static final Operation NETWORK_PRUNE = add(named("network.prune"));
    public static final Operation NETWORK_CONNECT = add(named("network.connect").on(Target.Kind.NETWORK)
            .json(NetworksApi::connection).judgedBy(ConstraintChecker.CONNECTION));
    public static final Operation NETWORK_DISCONNECT = add(named("network.disconnect").on(Target.Kind.NETWORK)
            .json(NetworksApi::connection).judgedBy(ConstraintChecker.CONNECTION));
    public static final Operation NETWORK_DELETE = add(named("network.delete").on(Target.Kind.NETWORK));

    /** The swarm itself (GET /swarm, the unlock key); init, join, leave, update, unlock. */
    public static final Operation SWARM_INSPECT = add(named("swarm.inspect"));
    /** init, join (its token in the body, which the audit log never holds), leave, update, unlock: JSON bodies. */
    public static final Operation SWARM_MANAGE = add(named("swarm.manage").json(ServiceSpecs::object));
    public static final Operation NODE_LIST = add(named("node.list"));
    public static final Operation NODE_INSPECT = add(named("node.inspect"));
    public static final Operation NODE_UPDATE = add(named("node.update").json(ServiceSpecs::object));
    public static final Operation NODE_DELETE = add(named("node.delete"));
    public static final Operation SERVICE_LIST = add(named("service.list"));
    public static final Operation SERVICE_INSPECT = add(named("service.inspect"));
    public static final Operation SERVICE_LOGS = add(named("service.logs").streaming(Streaming.WHEN_FOLLOW));
    /** A service's tasks run containers: TaskTemplate.ContainerSpec is judged as a container create (ServiceSpecs). */
    public static final Operation SERVICE_CREATE = add(named("service.create").json(ServiceSpecs::parse).stampingOwner()
            .judgedBy(ConstraintChecker.SERVICE));
    public static final Operation SERVICE_UPDATE = add(named("service.update").json(ServiceSpecs::parse)
            .judgedBy(ConstraintChecker.SERVICE));
    public static final Operation SERVICE_DELETE = add(named("service.delete"));
    public static final Operation TASK_LIST = add(named("task.list"));
    public static final Operation TASK_INSPECT = add(named("task.inspect"));
    public static final Operation TASK_LOGS = add(named("task.logs").streaming(Streaming.WHEN_FOLLOW));
    /** A secret's payload is in the body, which the audit log never records. */
    public static final Operation SECRET_LIST = add(named("secret.list"));
    public static final Operation SECRET_INSPECT = add(named("secret.inspect"));
    public static final Operation SECRET_CREATE = add(named("secret.create").json(ServiceSpecs::object));
    public static final Operation SECRET_UPDATE = add(named("secret.update").json(ServiceSpecs::object));
    public static final Operation SECRET_DELETE = add(named("secret.delete"));
    public static final Operation CONFIG_LIST = add(named("config.list"));
    public static final Operation CONFIG_INSPECT = add(named("config.inspect"));
    public static final Operation CONFIG_CREATE = add(named("config.create").json(ServiceSpecs::object));
    public static final Operation CONFIG_UPDATE = add(named("config.update").json(ServiceSpecs::object));
    public static final Operation CONFIG_DELETE = add(named("config.delete"));

    private OperationTable() {
    }

    private static Operation container(String name) {
        return named(name).on(Target.Kind.CONTAINER);
    }

    private static Operation add(Operation op) {
        if (ALL.putIfAbsent(op.name(), op) != null) {
            throw new IllegalStateException("operation described twice: " + op.name());
        }
        return op;
    }

    /** The descriptor of a named operation (for tools and tests that start from a name). */
    public static Operation byName(String name) {
        Operation op = ALL.get(name);
        if (op == null) {
            throw new IllegalArgumentException("no such operation: " + name);
        }
        return op;
    }

    public static Map<String, Operation> all() {
        return java.util.Collections.unmodifiableMap(ALL);
    }
}
