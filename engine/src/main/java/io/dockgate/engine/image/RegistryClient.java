package io.dockgate.engine.image;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.engine.EngineException;
import io.dockgate.engine.ErrorKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * An OCI distribution (Docker registry v2) client for pulls: manifests and blobs by digest, every
 * digest verified, anonymous, basic and bearer-token authentication (the token is fetched from the realm
 * the registry names, with the caller's credentials when given). Registries on loopback addresses may
 * be plain HTTP, as Docker's default insecure range 127.0.0.0/8 allows. Redirects are followed without
 * carrying credentials to another host. Blocking.
 */
final class RegistryClient {
    static final String ACCEPT = String.join(", ",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.oci.image.manifest.v1+json");
    private static final Pattern PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(15))
            .followRedirects(HttpClient.Redirect.NEVER).build();
    private final String host;
    private final String repository;
    private final RegistryCredentials credentials;
    private String scheme;
    private String authorization;

    RegistryClient(Reference reference, RegistryCredentials credentials) {
        this.host = reference.domain().equals(Reference.DEFAULT_DOMAIN) ? "registry-1.docker.io" : reference.domain();
        this.repository = reference.path();
        this.credentials = credentials;
        this.scheme = "https";
    }

    /** A fetched manifest: body, media type, digest. */
    record Manifest(byte[] body, String mediaType, Digest digest, JsonNode json) {
    }

    Manifest manifest(String tagOrDigest) throws IOException {
        HttpResponse<byte[]> r = send("/v2/" + repository + "/manifests/" + tagOrDigest, ACCEPT, HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() == 404) {
            throw EngineException.notFound("manifest for " + host + "/" + repository + ":" + tagOrDigest + " not found: manifest unknown");
        }
        expectOk(r, "manifest " + tagOrDigest);
        byte[] body = r.body();
        Digest digest = Digest.of(body);
        if (tagOrDigest.startsWith("sha256:") && !digest.equals(Digest.parse(tagOrDigest))) {
            throw EngineException.invalid("the registry returned a manifest whose digest " + digest + " is not the requested " + tagOrDigest);
        }
        String header = r.headers().firstValue("Docker-Content-Digest").orElse(null);
        if (header != null && header.startsWith("sha256:") && !Digest.parse(header).equals(digest)) {
            throw EngineException.invalid("the registry returned a manifest whose digest " + digest
                    + " differs from its Docker-Content-Digest " + header);
        }
        JsonNode json = ImageStore.JSON.readTree(body);
        String mediaType = json.path("mediaType").asText(r.headers().firstValue("Content-Type").orElse(""));
        return new Manifest(body, mediaType, digest, json);
    }

    /** Downloads a blob to file, verifying its digest and size; reports progress in bytes. */
    void blob(Digest digest, long size, Path file, LongConsumer progress) throws IOException {
        HttpResponse<InputStream> r = send("/v2/" + repository + "/blobs/" + digest, "*/*", HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            r.body().close();
        }
        expectOk(r, "blob " + digest);
        MessageDigest sha = Digest.sha256();
        long total = 0;
        try (InputStream in = r.body(); OutputStream out = Files.newOutputStream(file)) {
            byte[] buffer = new byte[128 * 1024];
            int n;
            long lastReport = 0;
            while ((n = in.read(buffer)) > 0) {
                sha.update(buffer, 0, n);
                out.write(buffer, 0, n);
                total += n;
                if (size >= 0 && total > size) {
                    throw EngineException.invalid("the registry sent more than the " + size + " bytes of blob " + digest);
                }
                if (total - lastReport >= 512 * 1024) {
                    progress.accept(total);
                    lastReport = total;
                }
            }
        }
        progress.accept(total);
        Digest actual = Digest.of(sha);
        if (!actual.equals(digest)) {
            throw EngineException.invalid("filesystem layer verification failed for digest " + digest + " (got " + actual + ")");
        }
    }

    byte[] blobBytes(Digest digest, long maxBytes) throws IOException {
        HttpResponse<byte[]> r = send("/v2/" + repository + "/blobs/" + digest, "*/*", HttpResponse.BodyHandlers.ofByteArray());
        expectOk(r, "blob " + digest);
        if (r.body().length > maxBytes) {
            throw EngineException.invalid("blob " + digest + " is larger than " + maxBytes + " bytes");
        }
        if (!Digest.of(r.body()).equals(digest)) {
            throw EngineException.invalid("the registry returned blob content that does not match digest " + digest);
        }
        return r.body();
    }

    private void expectOk(HttpResponse<?> r, String what) {
        int s = r.statusCode();
        if (s == 200) {
            return;
        }
        if (s == 401 || s == 403) {
            throw new EngineException(ErrorKind.PERMISSION_DENIED, "pull access denied for " + host + "/" + repository
                    + ", repository does not exist or may require 'docker login'");
        }
        if (s == 404) {
            throw EngineException.notFound(what + " not found in " + host + "/" + repository);
        }
        throw new EngineException(ErrorKind.UNAVAILABLE, "registry " + host + " answered " + s + " for " + what);
    }

    private <T> HttpResponse<T> send(String path, String accept, HttpResponse.BodyHandler<T> handler) throws IOException {
        try {
            return sendOnce(path, accept, handler, true);
        } catch (ConnectException | SSLException e) {
            if (scheme.equals("https") && isLoopback()) {
                scheme = "http";
                return send(path, accept, handler);
            }
            throw unreachable(e);
        } catch (IOException e) {
            if (scheme.equals("https") && isLoopback() && String.valueOf(e.getMessage()).contains("HTTP")) {
                scheme = "http";
                return send(path, accept, handler);
            }
            throw unreachable(e);
        }
    }

    /** The registry could not be reached or broke off: what the client is told, naming the registry. */
    private EngineException unreachable(IOException e) {
        String why = e.getMessage() != null ? e.getMessage() : e instanceof ConnectException ? "connection refused" : e.toString();
        return new EngineException(ErrorKind.UNAVAILABLE, "cannot reach registry " + host + " (" + scheme + "): " + why, e);
    }

    private boolean isLoopback() {
        String h = host.contains(":") && !host.startsWith("[") ? host.substring(0, host.lastIndexOf(':')) : host;
        return h.equals("localhost") || h.startsWith("127.") || h.equals("[::1]");
    }

    private <T> HttpResponse<T> sendOnce(String path, String accept, HttpResponse.BodyHandler<T> handler, boolean mayAuthenticate)
            throws IOException {
        URI uri = URI.create(scheme + "://" + host + path);
        String auth = authorization;
        for (int redirects = 0; redirects < 5; redirects++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10)).header("Accept", accept)
                    .header("User-Agent", "dockgate");
            if (auth != null) {
                b.header("Authorization", auth);
            }
            HttpResponse<T> r;
            try {
                r = http.send(b.GET().build(), handler);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted");
            }
            int s = r.statusCode();
            if (s == 401 && mayAuthenticate && authorization == null) {
                String challenge = r.headers().firstValue("WWW-Authenticate").orElse("");
                close(r);
                authorization = authenticate(challenge);
                if (authorization != null) {
                    return sendOnce(path, accept, handler, false);
                }
                return r;
            }
            if (s == 301 || s == 302 || s == 303 || s == 307 || s == 308) {
                String location = r.headers().firstValue("Location").orElseThrow(() -> new IOException("redirect without Location"));
                close(r);
                URI next = uri.resolve(location);
                if (!next.getHost().equals(uri.getHost()) || next.getPort() != uri.getPort()) {
                    auth = null; // never send registry credentials to another host
                }
                uri = next;
                continue;
            }
            return r;
        }
        throw new IOException("too many redirects from " + host);
    }

    private static void close(HttpResponse<?> r) {
        if (r.body() instanceof InputStream in) {
            try {
                in.close();
            } catch (IOException e) {
                // ignore
            }
        }
    }

    /** Answers a WWW-Authenticate challenge: Basic with the credentials, or Bearer through the token realm. */
    private String authenticate(String challenge) throws IOException {
        String lower = challenge.toLowerCase(java.util.Locale.ROOT);
        if (lower.startsWith("basic")) {
            return credentials.hasPassword() ? basic() : null;
        }
        if (!lower.startsWith("bearer")) {
            return null;
        }
        Map<String, String> params = new LinkedHashMap<>();
        Matcher m = PARAM.matcher(challenge);
        while (m.find()) {
            params.put(m.group(1).toLowerCase(java.util.Locale.ROOT), m.group(2));
        }
        String realm = params.get("realm");
        if (realm == null) {
            return null;
        }
        StringBuilder url = new StringBuilder(realm).append(realm.contains("?") ? "&" : "?");
        if (params.containsKey("service")) {
            url.append("service=").append(URLEncoder.encode(params.get("service"), StandardCharsets.UTF_8)).append('&');
        }
        url.append("scope=").append(URLEncoder.encode(params.getOrDefault("scope", "repository:" + repository + ":pull"),
                StandardCharsets.UTF_8));
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url.toString())).timeout(Duration.ofSeconds(30)).GET();
        if (credentials.hasPassword()) {
            b.header("Authorization", basic());
        }
        HttpResponse<byte[]> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        }
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            throw new EngineException(ErrorKind.PERMISSION_DENIED, "pull access denied for " + host + "/" + repository
                    + ": the token server refused the credentials (docker login?)");
        }
        if (r.statusCode() != 200) {
            throw new EngineException(ErrorKind.UNAVAILABLE, "token server " + realm + " answered " + r.statusCode());
        }
        JsonNode token = ImageStore.JSON.readTree(r.body());
        String value = token.path("token").asText(token.path("access_token").asText(""));
        if (value.isEmpty()) {
            throw new EngineException(ErrorKind.UNAVAILABLE, "token server " + realm + " returned no token");
        }
        return "Bearer " + value;
    }

    private String basic() {
        return "Basic " + Base64.getEncoder().encodeToString((credentials.username() + ":" + credentials.password())
                .getBytes(StandardCharsets.UTF_8));
    }

    String host() {
        return host;
    }
}
