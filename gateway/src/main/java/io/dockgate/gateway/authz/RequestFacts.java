package io.dockgate.gateway.authz;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the authorizer may look at beyond the operation: the body as the handler will execute it (the
 * typed model the operation's body was translated into once, and the parsed JSON it came from, for
 * fields the engine refuses today), the query with the path parameters, and lookups into the engine for
 * facts the body leaves implicit (the image's default user, an image's tags, a container's user).
 */
public record RequestFacts(JsonNode json, Object model, Map<String, String> query, Lookups lookups) {

    /** Read-only lookups into the engine's in-memory state. */
    public interface Lookups {
        /** The image's configured user ("" when none), empty when the image does not exist. */
        Optional<String> imageUser(String reference);

        /** The image's tags in familiar form (busybox:latest), empty when the image does not exist. */
        Optional<List<String>> imageTags(String reference);

        /** The user a container's processes run as ("" when root by default), empty when it does not exist. */
        Optional<String> containerUser(String reference);

        /** An exec session as created (whoever created it), empty when it does not exist. */
        Optional<ExecView> exec(String execId);

        /** A container's owner key, empty when it does not exist or has none. */
        Optional<String> containerOwner(String reference);

        /** A named volume's labels, empty when it does not exist. */
        Optional<Map<String, String>> volumeLabels(String name);

        /** How many containers carry this owner key. */
        long ownedContainers(String owner);

        /** Whether an image name, ID or ID prefix names an image the namespace reaches (true where images are not scoped). */
        default boolean imageReachable(String reference) {
            return true;
        }

        /** Whether the namespace has a tag of the repository (that tag, when given) to push (true where images are not scoped). */
        default boolean repositoryTagged(String repository, String tag) {
            return true;
        }

        /** The same lookups with image names read in a namespace (a binding's). */
        default Lookups inImages(io.dockgate.engine.image.ImageNamespace namespace) {
            return this;
        }

        /** A container's mounts (binds with their host paths, volumes by name), empty when it does not exist. */
        default Optional<List<io.dockgate.engine.container.ContainerSpec.Mount>> containerMounts(String reference) {
            return Optional.empty();
        }

        /** A container's host configuration (resources, for an update judged on its result), empty when it does not exist. */
        default Optional<io.dockgate.engine.container.ContainerSpec.Host> containerHost(String reference) {
            return Optional.empty();
        }

        /**
         * A network's owner key: empty when there is no such network, "" for the predefined networks
         * (everyone's) and for networks created without an owner. Without an engine (policy explain), every
         * network is taken to be everyone's.
         */
        default Optional<String> networkOwner(String reference) {
            return Optional.of("");
        }

        Lookups NONE = new Lookups() {
            @Override
            public long ownedContainers(String owner) {
                return 0;
            }

            @Override
            public Optional<ExecView> exec(String execId) {
                return Optional.empty();
            }

            @Override
            public Optional<Map<String, String>> volumeLabels(String name) {
                return Optional.empty();
            }

            @Override
            public Optional<String> containerOwner(String reference) {
                return Optional.empty();
            }

            @Override
            public Optional<String> imageUser(String reference) {
                return Optional.empty();
            }

            @Override
            public Optional<List<String>> imageTags(String reference) {
                return Optional.empty();
            }

            @Override
            public Optional<String> containerUser(String reference) {
                return Optional.empty();
            }
        };
    }

    /** What starting an exec would run: privileged or not, and as whom ("" for the container's user). */
    public record ExecView(boolean privileged, String user, String containerId) {
    }

    /** No body, no query. */
    public static RequestFacts none(Lookups lookups) {
        return new RequestFacts(null, null, Map.of(), lookups);
    }

    /** The same facts with image names read in a namespace (a binding's). */
    public RequestFacts inImages(io.dockgate.engine.image.ImageNamespace namespace) {
        Lookups bound = lookups.inImages(namespace);
        return bound == lookups ? this : new RequestFacts(json, model, query, bound);
    }

    public String query(String name) {
        return query.get(name);
    }
}
