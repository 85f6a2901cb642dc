package io.dockgate.gateway.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.dockgate.certs.CertificateSpec;
import io.dockgate.certs.IssuedCertificate;
import io.dockgate.certs.Pem;
import io.dockgate.certs.testing.TestPki;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Signature;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A registry token server (the distribution spec's token authentication) for docker-registry's
 * {@code auth: token}: one user with a password, ES256 tokens with an x5c chain to a root bundle of a test
 * CA, every scope asked for granted to that user; {@code offline_token=true} adds a refresh token, which
 * a {@code POST} with {@code grant_type=refresh_token} exchanges for an access token (what docker login's
 * identity token is). Counts the token requests.
 */
public final class TokenServer implements AutoCloseable {
    private final HttpServer server;
    private final IssuedCertificate signer;
    private final Path bundle;
    private final String user;
    private final String password;
    private final Set<String> refreshTokens = ConcurrentHashMap.newKeySet();
    private final List<String> requests = java.util.Collections.synchronizedList(new ArrayList<>());

    private TokenServer(HttpServer server, IssuedCertificate signer, Path bundle, String user, String password) {
        this.server = server;
        this.signer = signer;
        this.bundle = bundle;
        this.user = user;
        this.password = password;
    }

    public static TokenServer start(Path dir, String user, String password) throws Exception {
        TestPki pki = TestPki.create();
        IssuedCertificate signer = pki.ca().issue(CertificateSpec.builder().commonName("token signer").build());
        Files.createDirectories(dir);
        Path bundle = dir.resolve("token-root.pem");
        Files.writeString(bundle, Pem.encode(pki.ca().certificate()));
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        TokenServer tokens = new TokenServer(server, signer, bundle, user, password);
        server.createContext("/token", tokens::handle);
        server.start();
        return tokens;
    }

    /** The registry's token settings: realm|service|issuer|rootcertbundle, as {@link Registry#start} takes them. */
    public String registryAuth() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/token|test-registry|test-issuer|" + bundle;
    }

    /** The method and query of every token request, in order. */
    public List<String> requests() {
        return List.copyOf(requests);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            Map<String, List<String>> params;
            boolean authorised;
            if (exchange.getRequestMethod().equals("POST")) {
                params = form(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
                requests.add("POST " + params.keySet());
                authorised = "refresh_token".equals(first(params, "grant_type")) && refreshTokens.contains(first(params, "refresh_token"));
            } else {
                params = form(exchange.getRequestURI().getRawQuery());
                requests.add("GET " + exchange.getRequestURI().getRawQuery());
                String expected = "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
                authorised = expected.equals(exchange.getRequestHeaders().getFirst("Authorization"));
            }
            if (!authorised) {
                exchange.sendResponseHeaders(401, -1);
                return;
            }
            StringBuilder body = new StringBuilder("{\"token\":\"");
            String token = jwt(params.getOrDefault("scope", List.of()));
            body.append(token).append("\",\"access_token\":\"").append(token).append('"');
            if ("true".equals(first(params, "offline_token")) || exchange.getRequestMethod().equals("POST")) {
                String refresh = "rt-" + java.util.UUID.randomUUID();
                refreshTokens.add(refresh);
                body.append(",\"refresh_token\":\"").append(refresh).append('"');
            }
            byte[] bytes = body.append('}').toString().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    private static Map<String, List<String>> form(String raw) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
        }
        return out;
    }

    private static String first(Map<String, List<String>> params, String key) {
        List<String> v = params.get(key);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    /** An ES256 JWT the registry accepts: x5c chain to the root bundle, issuer, audience, the scopes' access. */
    private String jwt(List<String> scopes) throws Exception {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String header = "{\"typ\":\"JWT\",\"alg\":\"ES256\",\"x5c\":[\"" + Base64.getEncoder().encodeToString(signer.certificate().getEncoded())
                + "\"]}";
        long now = Instant.now().getEpochSecond();
        StringBuilder access = new StringBuilder();
        for (String scopeList : scopes) {
            for (String scope : scopeList.split(" ")) {
                String[] s = scope.split(":");
                if (s.length < 3) {
                    continue;
                }
                String name = String.join(":", java.util.Arrays.copyOfRange(s, 1, s.length - 1));
                StringBuilder acts = new StringBuilder();
                for (String a : s[s.length - 1].split(",")) {
                    acts.append(acts.length() > 0 ? "," : "").append('"').append(a).append('"');
                }
                access.append(access.length() > 0 ? "," : "").append("{\"type\":\"").append(s[0]).append("\",\"name\":\"").append(name)
                        .append("\",\"actions\":[").append(acts).append("]}");
            }
        }
        String claims = "{\"iss\":\"test-issuer\",\"sub\":\"" + user + "\",\"aud\":\"test-registry\",\"exp\":" + (now + 300) + ",\"nbf\":"
                + (now - 30) + ",\"iat\":" + now + ",\"jti\":\"" + System.nanoTime() + "\",\"access\":[" + access + "]}";
        String signingInput = b64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        Signature sig = Signature.getInstance("SHA256withECDSA");
        sig.initSign(signer.privateKey());
        sig.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        return signingInput + "." + b64.encodeToString(derToRaw(sig.sign()));
    }

    private static byte[] derToRaw(byte[] der) {
        int offset = 3 + (der[1] & 0x80) / 0x80 * (der[1] & 0x7f);
        int rLen = der[offset];
        byte[] r = java.util.Arrays.copyOfRange(der, offset + 1, offset + 1 + rLen);
        int sStart = offset + 1 + rLen + 1;
        int sLen = der[sStart];
        byte[] s = java.util.Arrays.copyOfRange(der, sStart + 1, sStart + 1 + sLen);
        byte[] raw = new byte[64];
        byte[] rr = new BigInteger(1, r).toByteArray();
        byte[] ss = new BigInteger(1, s).toByteArray();
        System.arraycopy(rr, Math.max(0, rr.length - 32), raw, 32 - Math.min(32, rr.length), Math.min(32, rr.length));
        System.arraycopy(ss, Math.max(0, ss.length - 32), raw, 64 - Math.min(32, ss.length), Math.min(32, ss.length));
        return raw;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
