package io.dockgate.gateway.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP proxy on 127.0.0.1 in front of a registry that fails on purpose: the next requests whose path
 * contains a text answer 503, or have their connection closed halfway through the body they announced.
 * One request per connection. Counts the GET requests per path, so a test sees what was fetched again.
 */
public final class FlakyProxy implements AutoCloseable {
    /** What a rule does to a request it matches. */
    public enum Failure { UNAVAILABLE, CUT_OFF }

    private record Rule(String pathContains, AtomicInteger remaining, Failure failure) {
    }

    private final ServerSocket server;
    private final String target;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    private final List<Rule> rules = new CopyOnWriteArrayList<>();
    private final Map<String, AtomicInteger> gets = new ConcurrentHashMap<>();

    private FlakyProxy(ServerSocket server, String target) {
        this.server = server;
        this.target = target;
    }

    /** A proxy to the registry at host:port (plain HTTP). */
    public static FlakyProxy start(String registryHost) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        FlakyProxy proxy = new FlakyProxy(server, registryHost);
        Thread accept = new Thread(proxy::accept, "flaky-proxy");
        accept.setDaemon(true);
        accept.start();
        return proxy;
    }

    public String host() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    /** The next {@code times} requests whose path contains the text fail so. */
    public void fail(String pathContains, int times, Failure failure) {
        rules.add(new Rule(pathContains, new AtomicInteger(times), failure));
    }

    /** No more failures. */
    public void heal() {
        rules.clear();
    }

    /** How many GETs asked for paths containing the text. */
    public int gets(String pathContains) {
        return gets.entrySet().stream().filter(e -> e.getKey().contains(pathContains)).mapToInt(e -> e.getValue().get()).sum();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> serve(s), "flaky-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket; InputStream in = socket.getInputStream(); OutputStream out = socket.getOutputStream()) {
            String[] requestLine = line(in).split(" ");
            Map<String, String> headers = new LinkedHashMap<>();
            for (String h; !(h = line(in)).isEmpty(); ) {
                int colon = h.indexOf(':');
                headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
            }
            byte[] body = in.readNBytes(Integer.parseInt(headers.getOrDefault("content-length", "0")));
            String method = requestLine[0];
            String pathAndQuery = requestLine[1];
            String path = pathAndQuery.contains("?") ? pathAndQuery.substring(0, pathAndQuery.indexOf('?')) : pathAndQuery;
            if (method.equals("GET")) {
                gets.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            }
            Failure failure = null;
            for (Rule r : rules) {
                if (path.contains(r.pathContains()) && r.remaining().getAndDecrement() > 0) {
                    failure = r.failure();
                    break;
                }
            }
            if (failure == Failure.UNAVAILABLE) {
                out.write("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                return;
            }
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + target + pathAndQuery));
            for (String h : List.of("accept", "authorization", "content-type")) {
                if (headers.containsKey(h)) {
                    b.header(h, headers.get(h));
                }
            }
            b.method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            byte[] content = r.body();
            StringBuilder head = new StringBuilder("HTTP/1.1 ").append(r.statusCode()).append(" X\r\n");
            for (String h : List.of("Content-Type", "Docker-Content-Digest", "Docker-Distribution-Api-Version", "WWW-Authenticate", "Location")) {
                r.headers().firstValue(h).ifPresent(v -> head.append(h).append(": ").append(v).append("\r\n"));
            }
            String length = method.equals("HEAD") ? r.headers().firstValue("Content-Length").orElse("0") : String.valueOf(content.length);
            head.append("Content-Length: ").append(length).append("\r\nConnection: close\r\n\r\n");
            out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
            if (!method.equals("HEAD")) {
                out.write(content, 0, failure == Failure.CUT_OFF ? content.length / 2 : content.length);
            }
            out.flush();
        } catch (IOException | InterruptedException | RuntimeException e) {
            // the connection ends; a cut-off one ends here on purpose
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c; (c = in.read()) != -1 && c != '\n'; ) {
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
