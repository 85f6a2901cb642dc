package io.dockgate.gateway.testing;

import io.dockgate.certs.IssuedCertificate;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A raw HTTP/1.1 client over TLS with a chosen client certificate and protocol, for handshake tests:
 * it trusts only the given CA, presents the given chain (or none), and keeps the connection open for
 * keep-alive tests.
 */
public final class TlsClient implements AutoCloseable {
    private final SSLSocket socket;

    private TlsClient(SSLSocket socket) {
        this.socket = socket;
    }

    /**
     * Connects and completes the handshake.
     *
     * @param client the certificate to present with its chain, or null for none
     * @param protocol "TLSv1.3" or "TLSv1.2"
     */
    public static TlsClient connect(int port, X509Certificate trustedCa, IssuedCertificate client, String protocol,
                                    String... cipherSuites) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", trustedCa);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance(protocol);
        javax.net.ssl.KeyManager[] keyManagers = client == null ? new javax.net.ssl.KeyManager[0]
                : new javax.net.ssl.KeyManager[] {new PresentingKeyManager(client)};
        context.init(keyManagers, tmf.getTrustManagers(), null);
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        socket.setEnabledProtocols(new String[] {protocol});
        if (cipherSuites.length > 0) {
            socket.setEnabledCipherSuites(cipherSuites);
        }
        javax.net.ssl.SSLParameters params = socket.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        params.setServerNames(List.of(new javax.net.ssl.SNIHostName("localhost")));
        socket.setSSLParameters(params);
        socket.startHandshake();
        return new TlsClient(socket);
    }

    /**
     * Presents the client's certificate whatever CAs the server names in its CertificateRequest, so that
     * the daemon, not the client, decides about certificates from other issuers.
     */
    private static final class PresentingKeyManager extends javax.net.ssl.X509ExtendedKeyManager {
        private final IssuedCertificate client;

        PresentingKeyManager(IssuedCertificate client) {
            this.client = client;
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, java.security.Principal[] issuers, javax.net.ssl.SSLEngine engine) {
            return "client";
        }

        @Override
        public String chooseClientAlias(String[] keyType, java.security.Principal[] issuers, java.net.Socket socket) {
            return "client";
        }

        @Override
        public String[] getClientAliases(String keyType, java.security.Principal[] issuers) {
            return new String[] {"client"};
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return client.chainWithoutRoot().toArray(new X509Certificate[0]);
        }

        @Override
        public java.security.PrivateKey getPrivateKey(String alias) {
            return client.privateKey();
        }

        @Override
        public String[] getServerAliases(String keyType, java.security.Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseServerAlias(String keyType, java.security.Principal[] issuers, java.net.Socket socket) {
            return null;
        }
    }

    /** Sends GET path and returns the raw response (status line, headers and body). */
    public String get(String path) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return RawHttp.readResponse(socket.getInputStream());
    }

    public X509Certificate serverCertificate() throws Exception {
        return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }

    public InputStream input() throws IOException {
        return socket.getInputStream();
    }

    public SSLSocket socket() {
        return socket;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
