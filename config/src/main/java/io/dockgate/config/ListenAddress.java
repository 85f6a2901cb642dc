package io.dockgate.config;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Path;

/** One {@code -H} address: a Unix socket path or a TCP host and port. */
public sealed interface ListenAddress {
    int DEFAULT_PLAIN_PORT = 2375;
    int DEFAULT_TLS_PORT = 2376;

    /** {@code unix:///path}. */
    record Unix(Path path) implements ListenAddress {
        @Override
        public String toString() {
            return "unix://" + path;
        }
    }

    /** {@code tcp://host:port}. */
    record Tcp(String host, int port) implements ListenAddress {
        /** True for 127.0.0.0/8, ::1 and "localhost". */
        public boolean isLoopback() {
            if (host.equals("localhost")) {
                return true;
            }
            try {
                return isLiteral(host) && InetAddress.getByName(host).isLoopbackAddress();
            } catch (UnknownHostException e) {
                return false;
            }
        }

        @Override
        public String toString() {
            return "tcp://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /**
     * Parses dockerd's -H spelling: {@code unix:///path}, {@code tcp://host[:port]}, {@code tcp://:port}.
     * A TCP address without a port takes 2376 when TLS verification is on and 2375 otherwise.
     */
    static ListenAddress parse(String text, boolean tls, String source) {
        if (text.startsWith("unix://")) {
            String path = text.substring("unix://".length());
            if (path.isEmpty() || !path.startsWith("/")) {
                throw new ConfigException(source + ": \"" + text + "\": a unix socket address needs an absolute path (unix:///path)");
            }
            return new Unix(Path.of(path).normalize());
        }
        if (text.startsWith("tcp://")) {
            URI uri;
            try {
                uri = new URI(text);
            } catch (URISyntaxException e) {
                throw new ConfigException(source + ": \"" + text + "\" is not a valid tcp address: " + e.getMessage());
            }
            if (uri.getPath() != null && !uri.getPath().isEmpty() && !uri.getPath().equals("/")) {
                throw new ConfigException(source + ": \"" + text + "\": a tcp address takes no path");
            }
            String host = uri.getHost();
            int port = uri.getPort();
            if (host == null) {
                String authority = uri.getRawAuthority();
                if (authority != null && authority.startsWith(":")) {
                    host = "0.0.0.0";
                    port = parsePort(authority.substring(1), text, source);
                } else if (authority == null || authority.isEmpty()) {
                    host = "127.0.0.1";
                } else {
                    throw new ConfigException(source + ": \"" + text + "\" is not a valid tcp address");
                }
            }
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (port < 0) {
                port = tls ? DEFAULT_TLS_PORT : DEFAULT_PLAIN_PORT;
            }
            if (port > 65535) {
                throw new ConfigException(source + ": \"" + text + "\": port out of range");
            }
            return new Tcp(host, port);
        }
        if (text.startsWith("fd://")) {
            throw new ConfigException(source + ": \"" + text + "\": socket activation (fd://) is not supported; use unix:// or tcp://");
        }
        throw new ConfigException(source + ": \"" + text + "\": unknown address scheme (use unix:///path or tcp://host:port)");
    }

    private static int parsePort(String text, String address, String source) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new ConfigException(source + ": \"" + address + "\": invalid port \"" + text + "\"");
        }
    }

    private static boolean isLiteral(String host) {
        return host.matches("[0-9.]+") || host.contains(":");
    }
}
