package io.dockgate.gateway.api;

import io.dockgate.gateway.request.DockerJson;
import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.Engine;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.container.Execs;
import io.dockgate.gateway.http.ApiRequest;
import io.dockgate.gateway.http.Blocking;
import io.dockgate.gateway.http.OperationCatalog;
import io.dockgate.gateway.http.Responses;
import io.dockgate.gateway.stream.DetachKeys;
import io.vertx.core.Future;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** docker exec: create, start (hijacked or detached), resize, inspect. */
public final class ExecApi {
    private final Engine engine;
    private final Blocking blocking;

    public ExecApi(Engine engine, Blocking blocking) {
        this.engine = engine;
        this.blocking = blocking;
    }

    public void register(OperationCatalog catalog) {
        catalog.add(OperationTable.CONTAINER_EXEC, "POST", "/containers/{id}/exec", this::create)
                .add(OperationTable.EXEC_START, "POST", "/exec/{id}/start", this::start)
                .add(OperationTable.EXEC_RESIZE, "POST", "/exec/{id}/resize", this::resize)
                .add(OperationTable.EXEC_INSPECT, "GET", "/exec/{id}/json", this::inspect);
    }

    private Execs execs() {
        return engine.containers().execs();
    }

    /** An exec create body, translated once into the engine's exec spec (judged by the policy as such). */
    static Execs.ExecSpec execSpec(JsonNode body) {
        String keys = DockerJson.text(body, "DetachKeys");
        DetachKeys.parse(keys); // refuse a bad spec now
        int[] size = consoleSize(body);
        return new Execs.ExecSpec(DockerJson.strings(body, "Cmd"), DockerJson.strings(body, "Env"), DockerJson.text(body, "User"),
                DockerJson.text(body, "WorkingDir"), DockerJson.bool(body, "Tty"), DockerJson.bool(body, "Privileged"),
                DockerJson.bool(body, "AttachStdin"), DockerJson.bool(body, "AttachStdout"), DockerJson.bool(body, "AttachStderr"),
                size[0], size[1], keys);
    }

    /** An exec start body: detached or attached, the framing (Tty) and the console size. */
    record ExecStart(boolean detach, boolean tty, int height, int width) {
        static ExecStart parse(JsonNode body) {
            int[] size = consoleSize(body);
            return new ExecStart(DockerJson.bool(body, "Detach"), DockerJson.bool(body, "Tty"), size[0], size[1]);
        }
    }

    Future<?> create(ApiRequest request) {
        String id = request.param("id");
        Execs.ExecSpec spec = request.model(Execs.ExecSpec.class);
        return blocking.run(() -> execs().create(id, spec)).compose(s -> Responses.json(request, 201, Map.of("Id", s.id())));
    }

    /** ConsoleSize [height, width], or zeros. */
    static int[] consoleSize(JsonNode body) {
        JsonNode size = DockerJson.field(body, "ConsoleSize");
        if (size == null) {
            return new int[] {0, 0};
        }
        if (!size.isArray() || size.size() != 2 || !size.get(0).canConvertToInt() || !size.get(1).canConvertToInt()
                || size.get(0).asInt() < 0 || size.get(1).asInt() < 0) {
            throw EngineException.invalid("invalid ConsoleSize: expected [height, width]");
        }
        return new int[] {size.get(0).asInt(), size.get(1).asInt()};
    }

    /** Detached: 200 at once. Attached: the connection is hijacked and joined to the exec's attach socket. */
    Future<?> start(ApiRequest request) {
        String id = request.param("id");
        ExecStart body = request.model(ExecStart.class);
        return blocking.run(() -> execs().get(id)).compose(s -> {
            if (body.detach()) {
                return blocking.run(() -> execs().start(s.id(), null, body.height(), body.width()))
                        .compose(a -> request.response().setStatusCode(200).end());
            }
            Execs.ExecSpec e = s.spec();
            // As dockerd: the start request's Tty decides the framing (raw or stdcopy), whatever the exec was created with.
            AttachedStream.Options options = new AttachedStream.Options(body.tty(), e.attachStdin(),
                    e.tty() ? DetachKeys.parse(e.detachKeys()) : null, null);
            return AttachedStream.run(request, blocking, options,
                    sink -> CompletableFuture.completedFuture(execs().start(s.id(), sink, body.height(), body.width())));
        });
    }

    Future<?> resize(ApiRequest request) {
        String id = request.param("id");
        int h = ContainersApi.parseInt(request.query("h").orElse("0"), "h");
        int w = ContainersApi.parseInt(request.query("w").orElse("0"), "w");
        return blocking.run(() -> {
            execs().resize(id, h, w);
            return null;
        }).compose(v -> request.response().setStatusCode(200).end());
    }

    Future<?> inspect(ApiRequest request) {
        String id = request.param("id");
        return blocking.run(() -> execs().get(id)).compose(s -> {
            Execs.ExecSpec e = s.spec();
            Map<String, Object> process = new LinkedHashMap<>();
            process.put("arguments", e.cmd().subList(1, e.cmd().size()));
            process.put("entrypoint", e.cmd().get(0));
            process.put("privileged", e.privileged());
            process.put("tty", e.tty());
            process.put("user", e.user() == null ? "" : e.user());
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("CanRemove", false);
            body.put("ContainerID", s.containerId());
            body.put("DetachKeys", e.detachKeys() == null ? "" : e.detachKeys());
            body.put("ExitCode", s.exitCode());
            body.put("ID", s.id());
            body.put("OpenStderr", e.attachStderr());
            body.put("OpenStdin", e.attachStdin());
            body.put("OpenStdout", e.attachStdout());
            body.put("ProcessConfig", process);
            body.put("Running", s.running());
            body.put("Pid", s.pid());
            return Responses.json(request, 200, body);
        });
    }
}
