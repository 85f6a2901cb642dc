package io.dockgate.gateway.http;

import io.dockgate.gateway.request.ApiVersion;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;

/** The headers dockerd puts on every response; the docker CLI negotiates its API version from them. */
public final class DockerHeaders {
    // names and values encoded once (Netty writes AsciiStrings without converting them per response)
    private static final CharSequence SERVER = HttpHeaders.createOptimized("Server");
    private static final CharSequence API_VERSION = HttpHeaders.createOptimized("Api-Version");
    private static final CharSequence OSTYPE = HttpHeaders.createOptimized("Ostype");
    private static final CharSequence EXPERIMENTAL = HttpHeaders.createOptimized("Docker-Experimental");
    private static final CharSequence LINUX = HttpHeaders.createOptimized("linux");
    private static final CharSequence FALSE = HttpHeaders.createOptimized("false");
    private final CharSequence server;
    private final CharSequence apiVersion = HttpHeaders.createOptimized(ApiVersion.MAX.toString());

    public DockerHeaders(String version) {
        this.server = HttpHeaders.createOptimized("dockgate/" + version + " (linux)");
    }

    public void apply(HttpServerResponse response) {
        response.putHeader(SERVER, server)
                .putHeader(API_VERSION, apiVersion)
                .putHeader(OSTYPE, LINUX)
                .putHeader(EXPERIMENTAL, FALSE);
    }
}
