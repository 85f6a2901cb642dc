package io.dockgate.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.Engine;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.image.Reference;
import io.dockgate.engine.image.RegistryCredentials;
import io.dockgate.gateway.authz.ConstraintChecker;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.http.Blocking;
import io.dockgate.gateway.http.OperationCatalog;
import io.dockgate.gateway.http.Responses;
import io.dockgate.gateway.request.DockerJson;
import io.dockgate.gateway.request.Filters;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The routes that reach a registry without changing the store: {@code POST /auth} (docker login checked
 * at the registry), {@code GET /distribution/{name}/json} (a reference's manifest descriptor and
 * platforms), {@code GET /images/search}. Credentials never reach a log, the audit log or an answer.
 */
public final class RegistryApi {
    private static final Set<String> LOGIN_FIELDS = Set.of("username", "password", "auth", "email", "serveraddress", "identitytoken",
            "registrytoken");
    private static final Set<String> SEARCH_FILTERS = Set.of("is-official", "is-automated", "stars");

    private final Engine engine;
    private final Blocking blocking;

    public RegistryApi(Engine engine, Blocking blocking) {
        this.engine = engine;
        this.blocking = blocking;
    }

    public void register(OperationCatalog catalog) {
        catalog.add(OperationTable.REGISTRY_LOGIN, "POST", "/auth", this::login)
                .add(OperationTable.IMAGE_DISTRIBUTION, "GET", "/distribution/{name...}/json", this::distribution)
                .add(OperationTable.IMAGE_SEARCH, "GET", "/images/search", this::search);
    }

    /** A login body (Docker's AuthConfig): its credentials; a set field Docker does not define is refused, naming it. */
    static RegistryCredentials credentials(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw EngineException.invalid("the login body must be a JSON object (an AuthConfig)");
        }
        body.fields().forEachRemaining(f -> {
            // a zero value of a field Docker does not define passes (docker-java sends "stackOrchestrator": null)
            if (!LOGIN_FIELDS.contains(f.getKey().toLowerCase(java.util.Locale.ROOT)) && DockerJson.isSet(f.getValue())) {
                throw EngineException.invalid("unknown field \"" + f.getKey() + "\" in the login body");
            }
        });
        return RegistryCredentials.fromJson(body);
    }

    Future<?> login(ApiRequest request) {
        RegistryCredentials credentials = request.model(RegistryCredentials.class);
        JsonNode address = DockerJson.field(request.json(), "serveraddress");
        String server = address != null && address.isTextual() ? address.asText() : "";
        return blocking.run(() -> engine.images().login(server, credentials)).compose(token -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("Status", "Login Succeeded");
            body.put("IdentityToken", token);
            return Responses.json(request, 200, body);
        });
    }

    Future<?> distribution(ApiRequest request) {
        Reference ref = Reference.parse(request.param("name"));
        RegistryCredentials credentials = RegistryCredentials.fromHeader(request.http().getHeader("X-Registry-Auth"));
        return blocking.run(() -> engine.images().distribution(ref, credentials)).compose(d -> {
            Map<String, Object> descriptor = new LinkedHashMap<>();
            descriptor.put("mediaType", d.mediaType());
            descriptor.put("digest", d.digest().toString());
            descriptor.put("size", d.size());
            List<Map<String, Object>> platforms = new ArrayList<>();
            for (String[] p : d.platforms()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("architecture", p[0]);
                m.put("os", p[1]);
                if (!p[2].isEmpty()) {
                    m.put("variant", p[2]);
                }
                platforms.add(m);
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("Descriptor", descriptor);
            body.put("Platforms", platforms);
            return Responses.json(request, 200, body);
        });
    }

    Future<?> search(ApiRequest request) {
        String term = request.query("term").orElse("");
        if (term.isEmpty()) {
            throw EngineException.invalid("term is required");
        }
        int limit = 25;
        String limitText = request.query("limit").orElse("");
        if (!limitText.isEmpty()) {
            try {
                limit = Integer.parseInt(limitText);
            } catch (NumberFormatException e) {
                throw EngineException.invalid("invalid limit: " + limitText);
            }
            if (limit < 1 || limit > 100) {
                throw EngineException.invalid("limit " + limit + " is outside the range of [1, 100]");
            }
        }
        Filters filters = Filters.parse(request.query("filters").orElse(null), SEARCH_FILTERS);
        Boolean official = filters.bool("is-official");
        Boolean automated = filters.bool("is-automated");
        int stars = 0;
        if (filters.has("stars")) {
            try {
                stars = Integer.parseInt(filters.get("stars").get(0));
            } catch (NumberFormatException e) {
                throw EngineException.invalid("invalid filter 'stars=" + filters.get("stars").get(0) + "'");
            }
        }
        String registry = ConstraintChecker.searchRegistry(term);
        String query = ConstraintChecker.searchQuery(term);
        RegistryCredentials credentials = RegistryCredentials.fromHeader(request.http().getHeader("X-Registry-Auth"));
        int minStars = stars;
        int n = limit;
        return blocking.run(() -> engine.images().search(registry, query, n, credentials)).compose(results -> {
            List<Map<String, Object>> out = new ArrayList<>();
            for (JsonNode r : results) {
                if (official != null && r.path("is_official").asBoolean() != official
                        || automated != null && r.path("is_automated").asBoolean() != automated
                        || r.path("star_count").asInt() < minStars) {
                    continue;
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("star_count", r.path("star_count").asInt());
                m.put("is_official", r.path("is_official").asBoolean());
                m.put("name", r.path("name").asText());
                m.put("is_automated", r.path("is_automated").asBoolean());
                m.put("description", r.path("description").asText());
                out.add(m);
                if (out.size() == n) {
                    break;
                }
            }
            return Responses.json(request, 200, out);
        });
    }
}
