package io.dockgate.engine.image;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

/**
 * How registries are reached, as dockerd's settings: mirrors tried first for Docker Hub pulls; insecure
 * registries (hosts or IPv4 CIDRs, and always 127.0.0.0/8 and localhost) reached over HTTPS without
 * verification, or over plain HTTP when HTTPS fails; per-registry TLS (a CA, a client certificate) from
 * a certs.d directory, read by the caller's function at each use; how many times a request that cannot
 * connect or gets a 5xx answer is tried, with back-off.
 */
public final class Registries {
    public static final Registries DEFAULT = new Registries(List.of(), List.of(), host -> Optional.empty(), 5);

    private final List<String> mirrors;
    private final List<String> insecure;
    private final Function<String, Optional<SSLContext>> tls;
    private final int maxAttempts;

    /**
     * @param mirrors     base URLs (http or https, host and port) Docker Hub pulls try first
     * @param insecure    host[:port] or IPv4 CIDRs
     * @param tls         the TLS context for a registry host (its certs.d CA and client certificate), empty for the JVM's
     * @param maxAttempts tries of each request that cannot connect or answers 5xx (at least 1)
     */
    public Registries(List<String> mirrors, List<String> insecure, Function<String, Optional<SSLContext>> tls, int maxAttempts) {
        this.mirrors = List.copyOf(mirrors);
        this.insecure = List.copyOf(insecure);
        this.tls = tls;
        this.maxAttempts = Math.max(1, maxAttempts);
    }

    List<String> mirrors() {
        return mirrors;
    }

    int maxAttempts() {
        return maxAttempts;
    }

    /** Whether the registry may be reached without TLS verification or over plain HTTP. */
    boolean insecure(String host) {
        String h = host.contains(":") && !host.startsWith("[") ? host.substring(0, host.lastIndexOf(':')) : host;
        if (h.equals("localhost") || h.startsWith("127.") || h.equals("[::1]")) {
            return true;
        }
        for (String entry : insecure) {
            if (entry.contains("/")) {
                if (h.matches("([0-9]{1,3}\\.){3}[0-9]{1,3}") && inCidr(h, entry)) {
                    return true;
                }
            } else if (entry.equals(host) || entry.equals(h)) {
                return true;
            }
        }
        return false;
    }

    private static boolean inCidr(String ip, String cidr) {
        try {
            String[] parts = cidr.split("/");
            int prefix = Integer.parseInt(parts[1]);
            byte[] a = InetAddress.getByName(ip).getAddress();
            byte[] n = InetAddress.getByName(parts[0]).getAddress();
            for (int bit = 0; bit < prefix; bit++) {
                int mask = 0x80 >> (bit % 8);
                if ((a[bit / 8] & mask) != (n[bit / 8] & mask)) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException | RuntimeException e) {
            return false;
        }
    }

    /** The TLS context for a registry: its certs.d files; verification off for an insecure one. */
    SSLContext sslContext(String host) {
        try {
            if (insecure(host)) {
                SSLContext trustAll = SSLContext.getInstance("TLS");
                // an extended trust manager: a plain one would be wrapped by the JDK, which checks the host name anyway
                trustAll.init(null, new TrustManager[] {new javax.net.ssl.X509ExtendedTrustManager() {
                    @Override
                    public void checkClientTrusted(X509Certificate[] chain, String authType) {
                    }

                    @Override
                    public void checkServerTrusted(X509Certificate[] chain, String authType) {
                    }

                    @Override
                    public void checkClientTrusted(X509Certificate[] chain, String authType, java.net.Socket socket) {
                    }

                    @Override
                    public void checkServerTrusted(X509Certificate[] chain, String authType, java.net.Socket socket) {
                    }

                    @Override
                    public void checkClientTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine) {
                    }

                    @Override
                    public void checkServerTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine) {
                    }

                    @Override
                    public X509Certificate[] getAcceptedIssuers() {
                        return new X509Certificate[0];
                    }
                }}, new SecureRandom());
                return trustAll;
            }
            Optional<SSLContext> own = tls.apply(host);
            return own.isPresent() ? own.get() : SSLContext.getDefault();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("no TLS context for registry " + host, e);
        }
    }
}
