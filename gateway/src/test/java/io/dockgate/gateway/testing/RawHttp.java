package io.dockgate.gateway.testing;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;

/** Raw HTTP/1.1 exchanges, byte for byte, so tests control exactly what the daemon receives. */
public final class RawHttp {
    private RawHttp() {
    }

    /** Sends the request text as is over a Unix socket and returns the whole response. */
    public static String unix(Path socket, String request) throws IOException {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1)));
            return readResponse(Channels.newInputStream(channel));
        }
    }

    /** GET path over the Unix socket. */
    public static String unixGet(Path socket, String path) throws IOException {
        return unix(socket, "GET " + path + " HTTP/1.1\r\nHost: docker\r\n\r\n");
    }

    /** Reads one response: headers, then a Content-Length or chunked body (nothing for HEAD-like 0 length). */
    public static String readResponse(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int last4 = 0;
        while (last4 != 0x0d0a0d0a) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed before the response headers ended: " + head);
            }
            head.write(b);
            last4 = (last4 << 8) | b;
        }
        String headers = head.toString(StandardCharsets.ISO_8859_1);
        String lower = headers.toLowerCase(Locale.ROOT);
        StringBuilder body = new StringBuilder();
        int cl = lower.indexOf("\r\ncontent-length:");
        if (cl >= 0) {
            int end = lower.indexOf("\r\n", cl + 2);
            int length = Integer.parseInt(headers.substring(cl + 17, end).trim());
            body.append(new String(in.readNBytes(length), StandardCharsets.UTF_8));
        } else if (lower.contains("transfer-encoding: chunked")) {
            while (true) {
                String sizeLine = readLine(in);
                int size = Integer.parseInt(sizeLine.trim(), 16);
                if (size == 0) {
                    readLine(in);
                    break;
                }
                body.append(new String(in.readNBytes(size), StandardCharsets.UTF_8));
                readLine(in);
            }
        }
        return headers + body;
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            if (b != '\r') {
                sb.append((char) b);
            }
        }
        return sb.toString();
    }

    public static int status(String response) {
        return Integer.parseInt(response.substring(9, 12));
    }

    public static String body(String response) {
        return response.substring(response.indexOf("\r\n\r\n") + 4);
    }

    public static String header(String response, String name) {
        for (String line : response.substring(0, response.indexOf("\r\n\r\n")).split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    /** Reads a response head up to the blank line (a hijacked stream follows it). */
    public static String readHead(InputStream in) throws IOException {
        java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
        int last4 = 0;
        while (last4 != 0x0d0a0d0a) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
            last4 = (last4 << 8) | b;
        }
        return head.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /** stdcopy frames ("1:text" for stdout, "2:text" for stderr) until the stream ends. */
    public static java.util.List<String> readFrames(InputStream in) throws IOException {
        java.util.List<String> frames = new java.util.ArrayList<>();
        while (true) {
            byte[] header = in.readNBytes(8);
            if (header.length < 8) {
                return frames;
            }
            int length = ((header[4] & 0xff) << 24) | ((header[5] & 0xff) << 16) | ((header[6] & 0xff) << 8) | (header[7] & 0xff);
            frames.add(header[0] + ":" + new String(in.readNBytes(length), java.nio.charset.StandardCharsets.UTF_8));
        }
    }
}
