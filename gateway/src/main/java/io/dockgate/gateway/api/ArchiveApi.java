package io.dockgate.gateway.api;

import io.dockgate.gateway.request.DockerJson;
import io.dockgate.engine.Engine;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.container.Containers;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.http.Blocking;
import io.dockgate.gateway.http.OperationCatalog;
import io.dockgate.gateway.stream.RequestBodyStream;
import io.dockgate.gateway.stream.ResponseOutputStream;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** docker cp: HEAD (stat), GET (a tar of a path) and PUT (a tar extracted into a directory) on /containers/{id}/archive. */
public final class ArchiveApi {
    private static final Logger LOG = LoggerFactory.getLogger(ArchiveApi.class);
    static final String STAT_HEADER = "X-Docker-Container-Path-Stat";

    private final Engine engine;
    private final Blocking blocking;

    public ArchiveApi(Engine engine, Blocking blocking) {
        this.engine = engine;
        this.blocking = blocking;
    }

    public void register(OperationCatalog catalog) {
        catalog.add(OperationTable.ARCHIVE_STAT, "HEAD", "/containers/{id}/archive", this::stat)
                .add(OperationTable.ARCHIVE_GET, "GET", "/containers/{id}/archive", this::get)
                .add(OperationTable.ARCHIVE_PUT, "PUT", "/containers/{id}/archive", this::put);
    }

    private Containers containers() {
        return engine.containers();
    }

    private static String path(ApiRequest request) {
        String path = request.query("path").orElse("");
        if (path.isEmpty()) {
            throw EngineException.invalid("bad parameter: path cannot be empty");
        }
        return path;
    }

    /** Go's os.FileMode bits, which the CLI decodes: permissions plus type flags. */
    static long goMode(int unixMode) {
        long mode = unixMode & 0777;
        switch (unixMode & 0170000) {
            case 0040000 -> mode |= 1L << 31;
            case 0120000 -> mode |= 1L << 27;
            case 0010000 -> mode |= 1L << 25;
            case 0140000 -> mode |= 1L << 24;
            case 0060000 -> mode |= 1L << 26;
            case 0020000 -> mode |= (1L << 26) | (1L << 21);
            default -> { }
        }
        if ((unixMode & 04000) != 0) {
            mode |= 1L << 23;
        }
        if ((unixMode & 02000) != 0) {
            mode |= 1L << 22;
        }
        if ((unixMode & 01000) != 0) {
            mode |= 1L << 20;
        }
        return mode;
    }

    static String statHeader(Containers.PathStat s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("size", s.size());
        m.put("mode", goMode(s.unixMode()));
        m.put("mtime", s.mtime().toString());
        m.put("linkTarget", s.linkTarget());
        return Base64.getEncoder().encodeToString(DockerJson.MAPPER.valueToTree(m).toString().getBytes(StandardCharsets.UTF_8));
    }

    Future<?> stat(ApiRequest request) {
        String id = request.param("id");
        String path = path(request);
        return blocking.run(() -> containers().statPath(id, path))
                .compose(s -> request.response().setStatusCode(200).putHeader(STAT_HEADER, statHeader(s)).end());
    }

    Future<?> get(ApiRequest request) {
        String id = request.param("id");
        String path = path(request);
        Context context = Vertx.currentContext();
        return blocking.run(() -> containers().statPath(id, path)).compose(s -> {
            HttpServerResponse response = request.response();
            response.setStatusCode(200).setChunked(true).putHeader("Content-Type", "application/x-tar").putHeader(STAT_HEADER, statHeader(s));
            return response.writeHead().compose(v -> blocking.run(() -> {
                try (OutputStream out = new BufferedOutputStream(new ResponseOutputStream(response, context), 256 * 1024)) {
                    containers().readPath(id, path, out);
                }
                return null;
            })).compose(v -> response.end(), e -> {
                LOG.warn("request {}: copy from the container failed after the archive started: {}", request.id(), e.toString());
                response.reset();
                return Future.succeededFuture();
            });
        });
    }

    Future<?> put(ApiRequest request) {
        String id = request.param("id");
        String path = path(request);
        boolean noOverwrite = request.queryBool("noOverwriteDirNonDir");
        boolean copyUidGid = request.queryBool("copyUIDGID");
        RequestBodyStream body = new RequestBodyStream(request.http(), Vertx.currentContext());
        return blocking.run(() -> {
            try (body) {
                containers().writePath(id, path, body, noOverwrite, copyUidGid);
            }
            return null;
        }).compose(v -> request.response().setStatusCode(200).end());
    }
}
