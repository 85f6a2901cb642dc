package io.dockgate.gateway.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import io.dockgate.engine.image.Reference;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.request.DockerJson;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Image tenancy in upstream mode on the request path ({@link UpstreamImages} keeps the record): before a
 * request is forwarded, the names it would make are checked against the caller's namespace and the
 * images it would save or push must be the caller's to reach; after the upstream made or removed names,
 * the record follows (for every caller: a name the administrators take back is common again). A
 * tenant's {@code rmi} and {@code image prune} are carried out here as a tenant's are in the embedded
 * engine: the tenant lets go of its names and holds, and an image goes only when nobody else has it.
 */
final class ImageRelay {
    private final Upstream upstream;
    private final UpstreamState state;
    private final UpstreamImages images;

    ImageRelay(Upstream upstream, UpstreamState state) {
        this.upstream = upstream;
        this.state = state;
        this.images = state.images();
    }

    UpstreamState state() {
        return state;
    }

    UpstreamImages.View view(ApiRequest request) {
        return images.view(request.access().images());
    }

    private static EngineException denied(String why) {
        return new EngineException(ErrorKind.PERMISSION_DENIED, why);
    }

    private static String q(ApiRequest request, String name) {
        String v = request.http().getParam(name);
        return v == null ? "" : v;
    }

    private Future<JsonNode> inspect(String ref) {
        return upstream.getJson("/images/" + UpstreamFacts.imagePath(ref) + "/json");
    }

    /**
     * The name a repository and tag make, as dockerd makes it (the tag, when given, replaces one the
     * repository has); null when there is no repository; the text as given when it is no reference (the
     * upstream refuses it, and a tenant's check refuses it first).
     */
    static String named(String repo, String tag) {
        if (repo == null || repo.isEmpty()) {
            return null;
        }
        try {
            Reference r = Reference.parse(repo);
            return tag == null || tag.isEmpty() ? r.familiar() : r.withTag(tag).familiar();
        } catch (RuntimeException e) {
            return tag == null || tag.isEmpty() ? repo : repo + ":" + tag;
        }
    }

    /** What must hold before the request goes to the upstream: a failed future answers the caller instead. */
    Future<Void> before(ApiRequest request) {
        UpstreamImages.View v = view(request);
        if (v.common()) {
            return Future.succeededFuture();
        }
        switch (request.operation()) {
            case "image.tag":
                return mayMake(v, named(q(request, "repo"), q(request, "tag")), false);
            case "container.commit":
                return mayMake(v, named(q(request, "repo"), q(request, "tag")), false);
            case "image.create": {
                String from = q(request, "fromImage");
                if (!from.isEmpty()) {
                    String tag = q(request, "tag");
                    Reference r;
                    try {
                        r = Reference.parse(from);
                    } catch (RuntimeException e) {
                        return Future.succeededFuture(); // the upstream's own 400
                    }
                    if (r.digest() != null || tag.startsWith("sha256:")) {
                        return Future.succeededFuture(); // by digest: no name is made
                    }
                    if (tag.isEmpty() && r.tag() == null) {
                        return Future.failedFuture(denied("pulling every tag of a repository (docker pull -a) is not available to a caller "
                                + "with its own images in upstream mode: pull the tags by name"));
                    }
                    return mayMake(v, named(from, tag), true);
                }
                return mayMake(v, named(q(request, "repo"), q(request, "tag")), false);
            }
            case "image.save": {
                List<String> names = new ArrayList<>(request.http().params().getAll("names"));
                if (request.route().pattern().contains("{name")) {
                    names.add(request.param("name"));
                }
                Future<Void> all = Future.succeededFuture();
                for (String n : names) {
                    all = all.compose(x -> reach(v, n).compose(ok -> ok ? Future.succeededFuture()
                            : Future.failedFuture(EngineException.notFound("No such image: " + n))));
                }
                return all;
            }
            case "image.push": {
                if (!q(request, "tag").isEmpty()) {
                    return Future.succeededFuture();
                }
                String repo = request.param("name");
                String filter = "{\"reference\":[\"" + repo.replace("\\", "\\\\").replace("\"", "\\\"") + "\"]}";
                return upstream.getJson("/images/json?filters=" + Forwarder.encode(filter)).compose(list -> {
                    if (list != null) {
                        for (JsonNode i : list) {
                            for (JsonNode t : i.path("RepoTags")) {
                                if (!v.nameVisible(t.asText())) {
                                    return Future.failedFuture(denied("the repository " + repo + " has tags of other namespaces on the upstream, "
                                            + "which a push of every tag would send: push your tags by name"));
                                }
                            }
                        }
                    }
                    return Future.succeededFuture();
                });
            }
            default:
                return Future.succeededFuture();
        }
    }

    /** Whether the namespace reaches an image reference (name, ID, ID prefix or digest). */
    Future<Boolean> reach(UpstreamImages.View v, String ref) {
        if (v.common()) {
            return Future.succeededFuture(true);
        }
        return inspect(ref).map(i -> i != null && v.reaches(ref, i)).otherwise(false);
    }

    /** Refused unless the namespace may make the name (which the upstream has or not). */
    Future<Void> mayMake(UpstreamImages.View v, String name, boolean pulled) {
        if (name == null || v.common()) {
            return Future.succeededFuture();
        }
        return inspect(name).otherwise((JsonNode) null).compose(existing -> {
            UpstreamImages.Making m = v.making(name, existing != null, pulled);
            return m.refused() ? Future.failedFuture(denied(m.refusal())) : Future.succeededFuture();
        });
    }

    /** The names in an image archive's naming files (manifest.json, repositories, index.json), as given. */
    static List<String> archiveNames(Map<String, byte[]> naming) {
        List<String> out = new ArrayList<>();
        try {
            byte[] manifest = naming.get("manifest.json");
            if (manifest != null) {
                for (JsonNode m : DockerJson.MAPPER.readTree(manifest)) {
                    m.path("RepoTags").forEach(t -> out.add(t.asText()));
                }
            }
            byte[] repositories = naming.get("repositories");
            if (repositories != null) {
                DockerJson.MAPPER.readTree(repositories).fields().forEachRemaining(repo ->
                        repo.getValue().fieldNames().forEachRemaining(tag -> out.add(repo.getKey() + ":" + tag)));
            }
            byte[] index = naming.get("index.json");
            if (index != null) {
                for (JsonNode m : DockerJson.MAPPER.readTree(index).path("manifests")) {
                    JsonNode a = m.path("annotations");
                    if (a.hasNonNull("io.containerd.image.name")) {
                        out.add(a.path("io.containerd.image.name").asText());
                    }
                    String ref = a.path("org.opencontainers.image.ref.name").asText("");
                    if (ref.contains("/") || ref.contains(":")) {
                        out.add(ref);
                    }
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            throw EngineException.invalid("the archive's " + String.join(", ", naming.keySet()) + " cannot be read: " + e.getMessage());
        }
        return out;
    }

    /** The judgement of a tenant's load once its naming files were read: every name one it may make. */
    Future<Void> mayLoad(UpstreamImages.View v, Map<String, byte[]> naming) {
        Future<Void> all = Future.succeededFuture();
        for (String name : archiveNames(naming)) {
            all = all.compose(x -> mayMake(v, name, false));
        }
        return all;
    }

    // ---------------------------------------------------------------- after the upstream answered

    /**
     * Names a successful request made, recorded: a tenant's own (the checks before let nothing else through),
     * held with their image (looked up when not known); the administrators' common again.
     */
    Future<Void> made(UpstreamImages.View v, List<String> names, String imageId) {
        List<String> valid = names.stream().filter(n -> UpstreamImages.key(n).isPresent()).toList();
        if (v.common()) {
            if (!valid.isEmpty()) {
                images.made("", valid, null);
            }
            return Future.succeededFuture();
        }
        Future<String> id = imageId != null && !imageId.isEmpty() || valid.isEmpty() ? Future.succeededFuture(imageId)
                : inspect(valid.get(0)).map(i -> i == null ? null : i.path("Id").asText(null)).otherwise((String) null);
        return id.map(i -> {
            if (!valid.isEmpty() || i != null) {
                images.made(v.owner(), valid, i);
            }
            return null;
        });
    }

    /** What a pull made: its name (or the image a digest names), once the stream ended without an error. */
    Future<Void> pulled(UpstreamImages.View v, ApiRequest request, String importedId) {
        String from = q(request, "fromImage");
        if (from.isEmpty()) {
            String name = named(q(request, "repo"), q(request, "tag"));
            return made(v, name == null ? List.of() : List.of(name), importedId);
        }
        String tag = q(request, "tag");
        String ref = tag.startsWith("sha256:") ? from + "@" + tag : named(from, tag);
        if (ref.contains("@")) {
            return inspect(ref).otherwise((JsonNode) null).compose(i -> i == null ? Future.succeededFuture()
                    : made(v, List.of(), i.path("Id").asText()));
        }
        return byPull(v, ref);
    }

    /** A build's base the upstream pulled: its name made as a pull makes it. */
    Future<Void> pulledBase(UpstreamImages.View v, String base) {
        return UpstreamImages.key(base).isPresent() ? byPull(v, base) : Future.succeededFuture();
    }

    /** A name a pull made: a shared one stays everyone's, any other is the puller's. */
    private Future<Void> byPull(UpstreamImages.View v, String ref) {
        UpstreamImages.Making m = v.making(ref, true, true);
        if (!v.common() && m.owner() != null && m.owner().isEmpty()) {
            images.made("", List.of(ref), null);
            return Future.succeededFuture();
        }
        return made(v, List.of(ref), null);
    }

    /** The answer of a delete or prune of the upstream's (Untagged, Deleted entries), recorded. */
    void removed(JsonNode entries) {
        if (entries == null) {
            return;
        }
        for (JsonNode e : entries) {
            if (e.hasNonNull("Untagged")) {
                String u = e.path("Untagged").asText();
                if (!u.contains("@")) {
                    images.untagged(u);
                }
            }
            if (e.hasNonNull("Deleted")) {
                images.deleted(e.path("Deleted").asText());
            }
        }
    }

    // ---------------------------------------------------------------- a tenant's rmi and prune

    /** Whether the request is carried out here rather than forwarded: a tenant's image delete or prune. */
    boolean carriesOut(ApiRequest request) {
        String op = request.operation();
        return (op.equals("image.delete") || op.equals("image.prune")) && !view(request).common();
    }

    Future<Void> carryOut(ApiRequest request) {
        UpstreamImages.View v = view(request);
        Future<JsonNode> answer = request.operation().equals("image.delete") ? delete(v, request.param("name"), request.queryBool("force"),
                request.queryBool("noprune")) : prune(v, request.http().getParam("filters"));
        return answer.compose(json -> request.response().setStatusCode(200).putHeader("Content-Type", "application/json")
                .end(Buffer.buffer(json.toString().getBytes(StandardCharsets.UTF_8))));
    }

    /** Whether a reference names the image by one of its tags (dockerd tries a name before an ID prefix). */
    static boolean isName(String ref, JsonNode image) {
        var k = UpstreamImages.key(ref);
        return k.isPresent() && tagged(image, k.get());
    }

    private static boolean tagged(JsonNode image, String key) {
        for (JsonNode t : image.path("RepoTags")) {
            if (UpstreamImages.key(t.asText()).map(key::equals).orElse(false)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A tenant's rmi: by one of its names, that name goes (the image too when it was its last name, as
     * dockerd does); by ID, the tenant lets go of all its names of the image and its hold, and the image
     * goes only if no other namespace names or holds it. The upstream is never asked to force a removal an
     * image another namespace has; a shared name is not the tenant's to remove.
     */
    Future<JsonNode> delete(UpstreamImages.View v, String ref, boolean force, boolean noprune) {
        return inspect(ref).compose(image -> {
            if (image == null || !v.reaches(ref, image)) {
                return Future.failedFuture(EngineException.notFound("No such image: " + ref));
            }
            String id = image.path("Id").asText();
            Names names = Names.of(v, image.path("RepoTags"));
            List<String> own = names.own();
            List<String> others = names.others();
            ArrayNode out = DockerJson.MAPPER.createArrayNode();
            if (isName(ref, image)) {
                if (!v.owns(ref)) {
                    return Future.failedFuture(denied("the image " + ref + " is shared with you by the authorization policy: "
                            + "only its owners remove it"));
                }
                boolean othersHave = !others.isEmpty() || images.heldByOthers(id, v.owner());
                // the last name of an image another namespace holds: kept under a holding name, or the upstream would delete it
                Future<Void> kept = own.size() == 1 && others.isEmpty() && names.holding().isEmpty() && othersHave ? keep(id)
                        : Future.succeededFuture();
                return kept.compose(k -> untag(ref, force && !othersHave, noprune, out)).map(x -> {
                    if (own.size() == 1) { // its last name of the image: the tenant no longer has it
                        images.letGo(v.owner(), id);
                    }
                    return (JsonNode) out;
                });
            }
            if (own.isEmpty() && !v.holds(id)) {
                return Future.failedFuture(denied("the image " + ref + " is shared with you by the authorization policy: only its owners remove it"));
            }
            return letGo(v, id, names, force, noprune, out).map(x -> (JsonNode) out);
        });
    }

    /** An image's tags as a namespace sees them: its own, others' (of other namespaces or common), and holding names. */
    record Names(List<String> own, List<String> others, List<String> holding) {
        static Names of(UpstreamImages.View v, JsonNode repoTags) {
            Names n = new Names(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
            for (JsonNode t : repoTags) {
                String tag = t.asText();
                if (tag.equals("<none>:<none>")) {
                    continue;
                }
                (UpstreamImages.holding(tag) ? n.holding : v.owns(tag) ? n.own : n.others).add(tag);
            }
            return n;
        }

        boolean dangling() {
            return own.isEmpty() && others.isEmpty();
        }
    }

    /** A holding name for an image (see {@link UpstreamImages#HOLDING_REPOSITORY}). */
    private Future<Void> keep(String id) {
        String hex = id.startsWith("sha256:") ? id.substring(7) : id;
        return upstream.call(HttpMethod.POST, "/images/" + Forwarder.encode(id) + "/tag?repo=" + Forwarder.encode(UpstreamImages.HOLDING_REPOSITORY)
                + "&tag=" + hex).compose(a -> a.ok() ? Future.succeededFuture() : Future.failedFuture(upstreamError(a)));
    }

    /**
     * The tenant lets go of an image: its names untagged, its hold dropped. When another namespace still
     * names or holds it, it stays (under a holding name if it would have none left); else the upstream
     * deletes it (by ID, with the caller's force: a container using it refuses a delete that is not forced).
     */
    private Future<Boolean> letGo(UpstreamImages.View v, String id, Names names, boolean force, boolean noprune, ArrayNode out) {
        List<String> own = names.own();
        boolean othersHave = !names.others().isEmpty() || images.heldByOthers(id, v.owner());
        Future<Void> chain = Future.succeededFuture();
        List<String> untag = new ArrayList<>();
        if (othersHave) {
            if (names.others().isEmpty() && names.holding().isEmpty() && !own.isEmpty()) {
                chain = keep(id);
            }
            untag.addAll(own);
        } else {
            // the delete by ID below removes the last name with the image: every other name goes first
            List<String> all = new ArrayList<>(own);
            all.addAll(names.holding());
            untag.addAll(all.isEmpty() ? all : all.subList(0, all.size() - 1));
        }
        for (String n : untag) {
            chain = chain.compose(x -> untag(n, false, noprune, out));
        }
        return chain.compose(x -> {
            images.letGo(v.owner(), id);
            if (othersHave) {
                return Future.succeededFuture(false);
            }
            String uri = "/images/" + Forwarder.encode(id) + "?force=" + force + "&noprune=" + noprune;
            return upstream.call(HttpMethod.DELETE, uri).compose(a -> collect(a, out)).map(true);
        });
    }

    private Future<Void> untag(String name, boolean force, boolean noprune, ArrayNode out) {
        return upstream.call(HttpMethod.DELETE, "/images/" + UpstreamFacts.imagePath(name) + "?force=" + force + "&noprune=" + noprune)
                .compose(a -> collect(a, out));
    }

    /** An upstream's answer to an image delete: recorded, and its entries (but a holding name's) added to the caller's answer. */
    private Future<Void> collect(Upstream.Answer a, ArrayNode out) {
        if (!a.ok()) {
            return Future.failedFuture(upstreamError(a));
        }
        JsonNode entries = a.json();
        removed(entries);
        if (entries != null) {
            entries.forEach(e -> {
                if (!UpstreamImages.holding(e.path("Untagged").asText(""))) {
                    out.add(e);
                }
            });
        }
        return Future.succeededFuture();
    }

    /** An upstream's refusal as this daemon's error; a conflict's message left without the container it names (maybe another's). */
    private static EngineException upstreamError(Upstream.Answer a) {
        String message = Upstream.message(a.body());
        ErrorKind kind = switch (a.status()) {
            case 404 -> ErrorKind.NOT_FOUND;
            case 409 -> ErrorKind.CONFLICT;
            case 400 -> ErrorKind.INVALID_ARGUMENT;
            case 403 -> ErrorKind.PERMISSION_DENIED;
            default -> ErrorKind.BAD_GATEWAY;
        };
        if (kind == ErrorKind.CONFLICT) {
            int by = message.indexOf(" - ");
            message = (by > 0 ? message.substring(0, by) : message) + " - the image is in use by a container";
        }
        return new EngineException(kind, message);
    }

    /** The prune filters Docker takes ({@code dangling}, {@code label}, {@code label!}, {@code until}). */
    private static final Set<String> PRUNE_FILTERS = Set.of("dangling", "label", "label!", "until");

    /**
     * A tenant's image prune: of the images the tenant made or holds and no container uses, the dangling
     * ones (or, with {@code dangling=false}, every one), let go of as by an rmi by ID; shared images are not
     * the tenant's to prune.
     */
    Future<JsonNode> prune(UpstreamImages.View v, String filtersText) {
        JsonNode filters;
        try {
            filters = filtersText == null || filtersText.isBlank() ? DockerJson.MAPPER.createObjectNode()
                    : DockerJson.parse(filtersText.getBytes(StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            return Future.failedFuture(EngineException.invalid("invalid filters: " + e.getMessage()));
        }
        for (var it = filters.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!PRUNE_FILTERS.contains(f)) {
                return Future.failedFuture(EngineException.invalid("invalid filter '" + f + "'"));
            }
        }
        boolean danglingOnly = !values(filters.path("dangling")).contains("false") && !values(filters.path("dangling")).contains("0");
        Set<String> labels = values(filters.path("label"));
        Set<String> notLabels = values(filters.path("label!"));
        Set<String> until = values(filters.path("until"));
        long before = Long.MAX_VALUE;
        if (!until.isEmpty()) {
            try {
                before = untilSeconds(until.iterator().next());
            } catch (RuntimeException e) {
                return Future.failedFuture(EngineException.invalid("invalid until filter: " + until.iterator().next()));
            }
        }
        long cutoff = before;
        Future<JsonNode> list = upstream.getJson("/images/json?all=0");
        Future<JsonNode> containers = upstream.getJson("/containers/json?all=1");
        return Future.all(list, containers).compose(x -> {
            Set<String> used = new LinkedHashSet<>();
            containers.result().forEach(c -> used.add(c.path("ImageID").asText()));
            ArrayNode deleted = DockerJson.MAPPER.createArrayNode();
            long[] reclaimed = {0};
            Future<Void> chain = Future.succeededFuture();
            for (JsonNode image : list.result()) {
                String id = image.path("Id").asText();
                Names names = Names.of(v, image.path("RepoTags"));
                if (used.contains(id) || names.own().isEmpty() && !v.holds(id) || danglingOnly && !names.dangling()
                        || image.path("Created").asLong() >= cutoff || !labelsMatch(image.path("Labels"), labels, notLabels)) {
                    continue;
                }
                long size = image.path("Size").asLong();
                chain = chain.compose(y -> letGo(v, id, names, false, false, deleted).map(gone -> {
                    if (gone) {
                        reclaimed[0] += size;
                    }
                    return null;
                }));
            }
            return chain.map(y -> {
                ObjectNode answer = DockerJson.MAPPER.createObjectNode();
                if (deleted.isEmpty()) {
                    answer.putNull("ImagesDeleted");
                } else {
                    answer.set("ImagesDeleted", deleted);
                }
                answer.put("SpaceReclaimed", reclaimed[0]);
                return (JsonNode) answer;
            });
        });
    }

    private static Set<String> values(JsonNode f) {
        Set<String> out = new LinkedHashSet<>();
        if (f.isArray()) {
            f.forEach(x -> out.add(x.asText()));
        } else if (f.isObject()) {
            f.fieldNames().forEachRemaining(out::add);
        }
        return out;
    }

    private static boolean labelsMatch(JsonNode labels, Set<String> required, Set<String> excluded) {
        for (String r : required) {
            if (!hasLabel(labels, r)) {
                return false;
            }
        }
        for (String e : excluded) {
            if (hasLabel(labels, e)) {
                return false;
            }
        }
        return true;
    }

    private static boolean hasLabel(JsonNode labels, String term) {
        int eq = term.indexOf('=');
        String key = eq < 0 ? term : term.substring(0, eq);
        if (!labels.has(key)) {
            return false;
        }
        return eq < 0 || labels.path(key).asText().equals(term.substring(eq + 1));
    }

    /** Docker's until: a Unix time, an RFC 3339 time, or a duration ago (10m, 24h). */
    static long untilSeconds(String until) {
        long now = System.currentTimeMillis() / 1000;
        if (until.matches("\\d+(\\.\\d+)?")) {
            return (long) Double.parseDouble(until);
        }
        if (until.matches("(\\d+(\\.\\d+)?(ns|us|ms|s|m|h))+")) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|ms|s|m|h)").matcher(until);
            double seconds = 0;
            while (m.find()) {
                double n = Double.parseDouble(m.group(1));
                seconds += switch (m.group(2)) {
                    case "h" -> n * 3600;
                    case "m" -> n * 60;
                    case "s" -> n;
                    case "ms" -> n / 1e3;
                    case "us" -> n / 1e6;
                    default -> n / 1e9;
                };
            }
            return now - (long) seconds;
        }
        return java.time.OffsetDateTime.parse(until).toEpochSecond();
    }
}
