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
import java.util.List;
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

    private final HttpClient http;
    private final Registries registries;
    private final String host;
    private final String repository;
    private final RegistryCredentials credentials;
    private final List<String> scopes;
    private volatile String scheme;
    private volatile String authorization;
    private volatile String refreshToken;
    private volatile String lastChallenge = "";
    private boolean fixedScheme;

    /** A client for pulls from the reference's repository. */
    RegistryClient(Registries registries, Reference reference, RegistryCredentials credentials) {
        this(registries, hostOf(reference), reference.path(), credentials, List.of("repository:" + reference.path() + ":pull"));
    }

    /** A client for pulls through a mirror (its base URL: scheme, host and port) of Docker Hub's repository. */
    static RegistryClient mirror(Registries registries, String baseUrl, Reference reference, RegistryCredentials credentials) {
        URI base = URI.create(baseUrl);
        String host = base.getHost() + (base.getPort() > 0 ? ":" + base.getPort() : "");
        RegistryClient client = new RegistryClient(registries, host, reference.path(), credentials,
                List.of("repository:" + reference.path() + ":pull"));
        client.scheme = base.getScheme();
        client.fixedScheme = true;
        return client;
    }

    /**
     * A client for one repository of a registry host, asking token servers for the given scopes
     * ({@code repository:app:pull,push}; none for a login).
     */
    RegistryClient(Registries registries, String host, String repository, RegistryCredentials credentials, List<String> scopes) {
        this.registries = registries;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(15)).followRedirects(HttpClient.Redirect.NEVER)
                .sslContext(registries.sslContext(host)).build();
        this.host = host;
        this.repository = repository;
        this.credentials = credentials;
        this.scopes = List.copyOf(scopes);
        this.scheme = "https";
        this.authorization = credentials.registryToken() != null ? "Bearer " + credentials.registryToken() : null;
    }

    /** The registry host serving a reference: Docker Hub's API host for docker.io. */
    static String hostOf(Reference reference) {
        return reference.domain().equals(Reference.DEFAULT_DOMAIN) ? "registry-1.docker.io" : reference.domain();
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
        return send(new Call("GET", path, accept, null, 0, null), handler);
    }

    /**
     * One request to the registry: method, path (from the host) or an absolute upload location, Accept,
     * and a body (re-readable: a retry after a challenge sends it again) of a known length and type.
     */
    record Call(String method, String target, String accept, java.util.function.Supplier<HttpRequest.BodyPublisher> body,
                long length, String contentType) {
    }

    /**
     * Sends a call: HTTPS first, plain HTTP for an insecure registry whose HTTPS fails; a GET or HEAD that
     * cannot connect or gets a 5xx answer is tried again with back-off, up to the configured attempts.
     */
    private <T> HttpResponse<T> send(Call call, HttpResponse.BodyHandler<T> handler) throws IOException {
        boolean idempotent = call.method().equals("GET") || call.method().equals("HEAD");
        int attempts = idempotent ? registries.maxAttempts() : 1;
        for (int attempt = 1; ; attempt++) {
            try {
                HttpResponse<T> r = sendOverEitherScheme(call, handler);
                if (r.statusCode() < 500 || attempt >= attempts) {
                    return r;
                }
                close(r);
            } catch (EngineException e) {
                if (e.kind() != ErrorKind.UNAVAILABLE || e.getCause() == null || attempt >= attempts) {
                    throw e;
                }
            }
            backOff(attempt);
        }
    }

    /** Waits before another attempt: 0.25 s, doubling, at most 4 s. */
    static void backOff(int attempt) throws java.io.InterruptedIOException {
        try {
            Thread.sleep(Math.min(4000L, 250L << Math.min(attempt - 1, 4)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        }
    }

    private <T> HttpResponse<T> sendOverEitherScheme(Call call, HttpResponse.BodyHandler<T> handler) throws IOException {
        String tried = scheme; // concurrent calls (a push's layers) may switch it meanwhile: judge this call by its own
        try {
            return sendOnce(call, handler, true, tried);
        } catch (EngineException | java.io.InterruptedIOException e) {
            throw e;
        } catch (IOException e) {
            boolean tlsFailed = e instanceof ConnectException || e instanceof SSLException || String.valueOf(e.getMessage()).contains("HTTP");
            if (!tried.equals("https") || !plainHttpAllowed() || !tlsFailed) {
                throw unreachable(e, tried);
            }
        }
        scheme = "http";
        try {
            return sendOnce(call, handler, true, "http");
        } catch (EngineException | java.io.InterruptedIOException e) {
            throw e;
        } catch (IOException e) {
            throw unreachable(e, "http");
        }
    }

    /** The registry could not be reached or broke off: what the client is told, naming the registry. */
    private EngineException unreachable(IOException e) {
        return unreachable(e, scheme);
    }

    private EngineException unreachable(IOException e, String scheme) {
        String why = e.getMessage() != null ? e.getMessage() : e instanceof ConnectException ? "connection refused" : e.toString();
        return new EngineException(ErrorKind.UNAVAILABLE, "cannot reach registry " + host + " (" + scheme + "): " + why, e);
    }

    /** Plain HTTP after HTTPS failed: insecure registries only (127.0.0.0/8 always, as dockerd's default). */
    private boolean plainHttpAllowed() {
        return !fixedScheme && registries.insecure(host);
    }

    private URI uri(String target, String scheme) {
        return target.startsWith("http://") || target.startsWith("https://") ? URI.create(target) : URI.create(scheme + "://" + host + target);
    }

    private <T> HttpResponse<T> sendOnce(Call call, HttpResponse.BodyHandler<T> handler, boolean mayAuthenticate, String scheme)
            throws IOException {
        URI uri = uri(call.target(), scheme);
        String auth = authorization;
        for (int redirects = 0; redirects < 5; redirects++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10)).header("User-Agent", "dockgate");
            if (call.accept() != null) {
                b.header("Accept", call.accept());
            }
            if (auth != null) {
                b.header("Authorization", auth);
            }
            if (call.body() != null) {
                b.header("Content-Type", call.contentType());
                b.method(call.method(), HttpRequest.BodyPublishers.fromPublisher(call.body().get(), call.length()));
            } else {
                b.method(call.method(), HttpRequest.BodyPublishers.noBody());
            }
            HttpResponse<T> r;
            try {
                r = http.send(b.build(), handler);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted");
            }
            int s = r.statusCode();
            if (s == 401) {
                lastChallenge = r.headers().firstValue("WWW-Authenticate").orElse("");
            }
            if (s == 401 && mayAuthenticate) {
                // no credentials sent yet, or a token whose scope does not cover this request: answer the challenge once
                String answered = authenticate(lastChallenge);
                if (answered != null) {
                    close(r);
                    authorization = answered;
                    return sendOnce(call, handler, false, scheme);
                }
                return r;
            }
            if ((s == 301 || s == 302 || s == 303 || s == 307 || s == 308) && call.method().equals("GET")) {
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

    /**
     * Answers a WWW-Authenticate challenge: Basic with the credentials, or Bearer through the token realm
     * (the challenge's scope and this client's; with the caller's password, or its identity token as a
     * refresh token). Null when there is nothing to answer with.
     */
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
        java.util.LinkedHashSet<String> wanted = new java.util.LinkedHashSet<>();
        if (params.containsKey("scope")) {
            wanted.addAll(List.of(params.get("scope").split(" ")));
        }
        wanted.addAll(scopes);
        HttpRequest.Builder b;
        if (credentials.identityToken() != null) {
            // an identity token (docker login's answer) is an OAuth2 refresh token: POST form
            StringBuilder form = new StringBuilder("grant_type=refresh_token&client_id=dockgate&refresh_token=")
                    .append(URLEncoder.encode(credentials.identityToken(), StandardCharsets.UTF_8));
            if (params.containsKey("service")) {
                form.append("&service=").append(URLEncoder.encode(params.get("service"), StandardCharsets.UTF_8));
            }
            form.append("&scope=").append(URLEncoder.encode(String.join(" ", wanted), StandardCharsets.UTF_8));
            b = HttpRequest.newBuilder(URI.create(realm)).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form.toString()));
        } else {
            StringBuilder url = new StringBuilder(realm).append(realm.contains("?") ? "&" : "?");
            if (params.containsKey("service")) {
                url.append("service=").append(URLEncoder.encode(params.get("service"), StandardCharsets.UTF_8)).append('&');
            }
            for (String scope : wanted) {
                url.append("scope=").append(URLEncoder.encode(scope, StandardCharsets.UTF_8)).append('&');
            }
            if (scopes.isEmpty() && credentials.hasPassword()) {
                url.append("offline_token=true&client_id=dockgate&"); // a login asks for a refresh token to hand back
            }
            url.setLength(url.length() - 1);
            b = HttpRequest.newBuilder(URI.create(url.toString())).timeout(Duration.ofSeconds(30)).GET();
            if (credentials.hasPassword()) {
                b.header("Authorization", basic());
            }
        }
        HttpResponse<byte[]> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        } catch (IOException e) {
            throw new EngineException(ErrorKind.UNAVAILABLE, "cannot reach the token server of registry " + host + ": "
                    + (e.getMessage() != null ? e.getMessage() : e.toString()), e);
        }
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            if (scopes.isEmpty()) { // a login: refused credentials are the caller's 401
                throw new EngineException(ErrorKind.UNAUTHENTICATED, "the token server of registry " + host
                        + " refused the credentials: unauthorized");
            }
            // not 401: the docker CLI answers a 401 to a pull or push by prompting for a password, on a daemon's behalf
            throw new EngineException(ErrorKind.PERMISSION_DENIED, "pull access denied for " + host + "/" + repository
                    + ": the token server refused the credentials (docker login?)");
        }
        if (r.statusCode() != 200) {
            throw new EngineException(ErrorKind.UNAVAILABLE, "the token server of registry " + host + " answered " + r.statusCode());
        }
        JsonNode token = ImageStore.JSON.readTree(r.body());
        String value = token.path("token").asText(token.path("access_token").asText(""));
        if (value.isEmpty()) {
            throw new EngineException(ErrorKind.UNAVAILABLE, "the token server of registry " + host + " returned no token");
        }
        String refresh = token.path("refresh_token").asText("");
        if (!refresh.isEmpty()) {
            refreshToken = refresh;
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

    // ---------------------------------------------------------------- login

    /**
     * {@code docker login}: {@code GET /v2/} answered with the credentials (Basic, or a token for them).
     * Returns the identity token a token server handed back ("" when none); refused credentials are
     * {@link ErrorKind.UNAUTHENTICATED} naming the endpoint, never the credentials.
     */
    String login() throws IOException {
        HttpResponse<byte[]> r = send("/v2/", "application/json", HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() == 200) {
            return refreshToken != null ? refreshToken : "";
        }
        String endpoint = scheme + "://" + host + "/v2/";
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            throw new EngineException(ErrorKind.UNAUTHENTICATED, "login attempt to " + endpoint + " failed with status: "
                    + r.statusCode() + (r.statusCode() == 401 ? " Unauthorized" : " Forbidden"));
        }
        throw new EngineException(ErrorKind.UNAVAILABLE, "login attempt to " + endpoint + " failed with status: " + r.statusCode());
    }

    /** A v1 search at this host ({@code /v1/search}): its results array. */
    JsonNode search(String term, int limit) throws IOException {
        HttpResponse<byte[]> r = send("/v1/search?q=" + URLEncoder.encode(term, StandardCharsets.UTF_8) + "&n=" + limit, "application/json",
                HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw new EngineException(ErrorKind.UNAVAILABLE, "searching registry " + host + " failed: unexpected status code " + r.statusCode());
        }
        try {
            return ImageStore.JSON.readTree(r.body()).path("results");
        } catch (IOException e) {
            throw new EngineException(ErrorKind.UNAVAILABLE, "registry " + host + " answered the search with something other than JSON");
        }
    }

    // ---------------------------------------------------------------- push

    /** Whether the repository has the blob ({@code HEAD}). */
    boolean hasBlob(Digest digest) throws IOException {
        HttpResponse<Void> r = send(new Call("HEAD", "/v2/" + repository + "/blobs/" + digest, "*/*", null, 0, null),
                HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
            return true;
        }
        if (r.statusCode() == 404) {
            return false;
        }
        throw pushRefused(r.statusCode(), "blob " + digest, null);
    }

    /**
     * Mounts a blob the registry holds in another repository ({@code POST uploads/?mount=&from=}). True when
     * mounted (201); false when the registry started an upload instead (202, cancelled) or refused.
     */
    boolean mount(Digest digest, String fromRepository) throws IOException {
        String path = "/v2/" + repository + "/blobs/uploads/?mount=" + URLEncoder.encode(digest.toString(), StandardCharsets.UTF_8)
                + "&from=" + URLEncoder.encode(fromRepository, StandardCharsets.UTF_8);
        HttpResponse<byte[]> r = send(new Call("POST", path, "*/*", null, 0, null), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() == 201) {
            return true;
        }
        if (r.statusCode() == 202) {
            r.headers().firstValue("Location").map(this::resolve).ifPresent(this::abandon); // it started an upload instead
        }
        return false;
    }

    /** Writes a blob to the stream it is given and returns the digest of what it wrote. */
    @FunctionalInterface
    interface BlobWriter {
        Digest write(java.io.OutputStream out) throws IOException;
    }

    /**
     * Uploads a blob as it is made, as dockerd does: an upload session, one {@code PATCH} whose chunked body
     * the writer produces on this thread while the HTTP client sends it, then the {@code PUT} that names the
     * digest the writer computed. A writer that fails (or is cancelled) stops the upload and its session.
     */
    Digest uploadStreamed(BlobWriter writer) throws IOException {
        String location = startUpload();
        ChunkPipe pipe = new ChunkPipe();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(location)).timeout(Duration.ofMinutes(60))
                .header("User-Agent", "dockgate").header("Content-Type", "application/octet-stream")
                .method("PATCH", HttpRequest.BodyPublishers.ofInputStream(() -> pipe.in));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        java.util.concurrent.CompletableFuture<HttpResponse<byte[]>> sent = http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        Digest digest;
        try {
            try {
                digest = writer.write(pipe.out);
            } finally {
                pipe.out.close();
            }
        } catch (IOException | RuntimeException e) {
            pipe.fail(e instanceof IOException io ? io : new IOException(e));
            // the registry may have stopped the upload first (an error answer, a closed connection): that is the cause
            HttpResponse<byte[]> early = null;
            Throwable broken = null;
            try {
                early = sent.get(2, java.util.concurrent.TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException x) {
                broken = x.getCause();
            } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
            } catch (java.util.concurrent.TimeoutException x) {
                sent.cancel(true);
            }
            abandon(location);
            if (e instanceof java.io.InterruptedIOException) {
                throw e; // cancelled by this side
            }
            if (early != null && early.statusCode() >= 300) {
                throw pushRefused(early.statusCode(), "an upload", early.body());
            }
            if (broken instanceof IOException io && !(broken instanceof java.io.InterruptedIOException)) {
                throw unreachable(io);
            }
            throw e;
        }
        HttpResponse<byte[]> patched;
        try {
            patched = sent.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        } catch (java.util.concurrent.ExecutionException e) {
            abandon(location);
            Throwable cause = e.getCause();
            throw unreachable(cause instanceof IOException io ? io : new IOException(cause));
        }
        if (patched.statusCode() != 202 && patched.statusCode() != 204) {
            abandon(location);
            throw pushRefused(patched.statusCode(), "blob " + digest, patched.body());
        }
        String next = patched.headers().firstValue("Location").map(this::resolve).orElse(location);
        finishUpload(next, digest, null);
        return digest;
    }

    /** Uploads a small blob (an image configuration) from memory: a session and one {@code PUT} with it. */
    void upload(Digest digest, byte[] content, String contentType) throws IOException {
        finishUpload(startUpload(), digest, new Call("PUT", "", "*/*", () -> HttpRequest.BodyPublishers.ofByteArray(content),
                content.length, contentType));
    }

    private String startUpload() throws IOException {
        HttpResponse<byte[]> started = send(new Call("POST", "/v2/" + repository + "/blobs/uploads/", "*/*", null, 0, null),
                HttpResponse.BodyHandlers.ofByteArray());
        if (started.statusCode() != 202) {
            throw pushRefused(started.statusCode(), "an upload", started.body());
        }
        return resolve(started.headers().firstValue("Location")
                .orElseThrow(() -> new EngineException(ErrorKind.UNAVAILABLE, "registry " + host + " started an upload without a Location")));
    }

    /** The {@code PUT} that ends an upload session with the blob's digest (and its content, when given). */
    private void finishUpload(String location, Digest digest, Call content) throws IOException {
        String target = location + (location.contains("?") ? "&" : "?") + "digest=" + URLEncoder.encode(digest.toString(), StandardCharsets.UTF_8);
        Call put = content == null ? new Call("PUT", target, "*/*", null, 0, null)
                : new Call("PUT", target, content.accept(), content.body(), content.length(), content.contentType());
        HttpResponse<byte[]> done = send(put, HttpResponse.BodyHandlers.ofByteArray());
        if (done.statusCode() != 201 && done.statusCode() != 204) {
            throw pushRefused(done.statusCode(), "blob " + digest, done.body());
        }
        String stored = done.headers().firstValue("Docker-Content-Digest").orElse(null);
        if (stored != null && stored.startsWith("sha256:") && !Digest.parse(stored).equals(digest)) {
            throw EngineException.invalid("registry " + host + " stored blob " + digest + " as " + stored);
        }
    }

    private void abandon(String location) {
        try {
            send(new Call("DELETE", location, "*/*", null, 0, null), HttpResponse.BodyHandlers.discarding());
        } catch (IOException | RuntimeException e) {
            // an abandoned upload session expires at the registry
        }
    }

    /** {@code PUT} of a manifest under a tag; returns the digest the registry names it by. */
    Digest putManifest(String tag, String mediaType, byte[] manifest) throws IOException {
        Call put = new Call("PUT", "/v2/" + repository + "/manifests/" + tag, "*/*", () -> HttpRequest.BodyPublishers.ofByteArray(manifest),
                manifest.length, mediaType);
        HttpResponse<byte[]> r = send(put, HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 201 && r.statusCode() != 200) {
            throw pushRefused(r.statusCode(), "manifest " + tag, r.body());
        }
        Digest ours = Digest.of(manifest);
        String theirs = r.headers().firstValue("Docker-Content-Digest").orElse(ours.toString());
        return Digest.parse(theirs);
    }

    private String resolve(String location) {
        return uri("/v2/", scheme).resolve(location).toString();
    }

    private EngineException pushRefused(int status, String what, byte[] body) {
        // 403, not 401: the docker CLI answers a daemon's 401 to a push by prompting for a password
        if (status == 401 && lastChallenge.toLowerCase(java.util.Locale.ROOT).startsWith("basic") && !credentials.hasPassword()) {
            return new EngineException(ErrorKind.PERMISSION_DENIED, "no basic auth credentials"); // dockerd's words
        }
        if (status == 401 || status == 403) {
            return new EngineException(ErrorKind.PERMISSION_DENIED, "denied: requested access to the resource is denied");
        }
        String detail = "";
        if (body != null && body.length > 0) {
            try {
                JsonNode errors = ImageStore.JSON.readTree(body).path("errors");
                if (errors.isArray() && !errors.isEmpty()) {
                    detail = ": " + errors.get(0).path("code").asText("").toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + ": "
                            + errors.get(0).path("message").asText("");
                }
            } catch (IOException | RuntimeException e) {
                // not a registry error document
            }
        }
        return new EngineException(ErrorKind.UNAVAILABLE, "registry " + host + " answered " + status + " for " + what + detail);
    }
}
