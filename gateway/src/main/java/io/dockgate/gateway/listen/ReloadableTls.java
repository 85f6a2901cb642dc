package io.dockgate.gateway.listen;

import io.dockgate.certs.CertificateInfo;
import io.dockgate.certs.CertificateRejectedException;
import io.dockgate.config.DaemonConfig;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The TLS material in force, swappable at run time. The listener's key manager and trust manager read
 * the current material on every handshake, so a reload needs no listener restart and no Vert.x SSL
 * context rebuild: new handshakes use the new files while open connections keep their sessions.
 */
public final class ReloadableTls {
    private final DaemonConfig.TlsConfig config;
    private final Clock clock;
    private final AtomicReference<TlsMaterial> current = new AtomicReference<>();
    private final AtomicLong generation = new AtomicLong();
    private final Map<String, TlsMaterial> byAlias = new ConcurrentHashMap<>();
    private final HandshakeListener listener;
    private final String listenerName;

    public ReloadableTls(DaemonConfig.TlsConfig config, Clock clock, HandshakeListener listener, String listenerName) {
        this.config = config;
        this.clock = clock;
        this.listener = listener;
        this.listenerName = listenerName;
        install(TlsMaterial.load(config, clock));
    }

    public DaemonConfig.TlsConfig config() {
        return config;
    }

    public TlsMaterial material() {
        return current.get();
    }

    /** Loads the files again and swaps them in; throws (keeping the old material) when they are unusable. Blocking. */
    public TlsMaterial reload() {
        TlsMaterial next = TlsMaterial.load(config, clock);
        install(next);
        return next;
    }

    private void install(TlsMaterial material) {
        String alias = "gen-" + generation.incrementAndGet();
        byAlias.put(alias, material);
        TlsMaterial previous = current.getAndSet(material);
        // Keep the previous generation for handshakes that chose its alias a moment ago; drop older ones.
        byAlias.entrySet().removeIf(e -> e.getValue() != material && e.getValue() != previous);
    }

    private String currentAlias(String keyType) {
        TlsMaterial material = current.get();
        String algorithm = material.serverKey().getAlgorithm();
        if (keyType != null && !keyType.startsWith(algorithm) && !(algorithm.equals("RSA") && keyType.equals("RSASSA-PSS"))) {
            return null;
        }
        for (Map.Entry<String, TlsMaterial> e : byAlias.entrySet()) {
            if (e.getValue() == material) {
                return e.getKey();
            }
        }
        return null;
    }

    /** The key manager the listener uses: the server chain of the current material. */
    public X509ExtendedKeyManager keyManager() {
        return new X509ExtendedKeyManager() {
            @Override
            public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
                return currentAlias(keyType);
            }

            @Override
            public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
                return currentAlias(keyType);
            }

            @Override
            public String[] getServerAliases(String keyType, Principal[] issuers) {
                String alias = currentAlias(keyType);
                return alias == null ? null : new String[] {alias};
            }

            @Override
            public X509Certificate[] getCertificateChain(String alias) {
                TlsMaterial m = byAlias.get(alias);
                return m == null ? null : m.serverChain().toArray(new X509Certificate[0]);
            }

            @Override
            public PrivateKey getPrivateKey(String alias) {
                TlsMaterial m = byAlias.get(alias);
                return m == null ? null : m.serverKey();
            }

            @Override
            public String[] getClientAliases(String keyType, Principal[] issuers) {
                return null;
            }

            @Override
            public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
                return null;
            }
        };
    }

    /** The trust manager the listener uses: {@link io.dockgate.certs.ClientCertificateValidator} of the current material. */
    public X509ExtendedTrustManager trustManager() {
        return new X509ExtendedTrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
                check(chain, engine == null ? "unknown" : engine.getPeerHost() + ":" + engine.getPeerPort());
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
                check(chain, socket == null ? "unknown" : String.valueOf(socket.getRemoteSocketAddress()));
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                check(chain, "unknown");
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
                throw new CertificateException("the daemon does not act as a TLS client");
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
                throw new CertificateException("the daemon does not act as a TLS client");
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                throw new CertificateException("the daemon does not act as a TLS client");
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return current.get().validator().caCertificates().toArray(new X509Certificate[0]);
            }
        };
    }

    private void check(X509Certificate[] chain, String remote) throws CertificateException {
        try {
            current.get().validator().validate(chain);
        } catch (CertificateRejectedException e) {
            X509Certificate leaf = e.leaf();
            listener.rejected(new HandshakeRejection(Instant.now(), listenerName, remote, e.reason(),
                    leaf == null ? null : CertificateInfo.subject(leaf), leaf == null ? null : CertificateInfo.serialHex(leaf)));
            throw e;
        }
    }

    /** The protocols offered: TLS 1.2 and 1.3 only. */
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /** ECDHE key exchange with AEAD ciphers only (TLS 1.3 suites are all AEAD with (EC)DHE). */
    public static final List<String> CIPHER_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
}
