package io.dockgate.gateway.http;

import io.dockgate.gateway.request.ApiVersion;
import io.vertx.core.http.HttpServerResponse;

/** The headers dockerd puts on every response; the docker CLI negotiates its API version from them. */
public final class DockerHeaders {
    private final String server;

    public DockerHeaders(String version) {
        this.server = "dockgate/" + version + " (linux)";
    }

    public void apply(HttpServerResponse response) {
        response.putHeader("Server", server)
                .putHeader("Api-Version", ApiVersion.MAX.toString())
                .putHeader("Ostype", "linux")
                .putHeader("Docker-Experimental", "false");
    }
}
