package io.dockgate.gateway.registry;

import io.dockgate.certs.Pem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A certs.d directory as dockerd reads /etc/docker/certs.d: for a registry {@code host[:port]}, the
 * directory of that name holds CAs ({@code *.crt}, trusted in addition to the JVM's) and client
 * certificates ({@code name.cert} with {@code name.key}). Read at each use, so files added later apply
 * without a restart. A registry without a directory uses the JVM's trust; unreadable files are an error
 * naming them (never a silent fallback to no client certificate).
 */
public final class CertsDir implements Function<String, Optional<SSLContext>> {
    private static final Logger LOG = LoggerFactory.getLogger(CertsDir.class);
    private final Path root;

    public CertsDir(Path root) {
        this.root = root;
    }

    @Override
    public Optional<SSLContext> apply(String host) {
        Path dir = root.resolve(host);
        if (host.contains("/") || host.startsWith(".") || !Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try {
            List<X509Certificate> cas = new ArrayList<>();
            List<Path> certs = new ArrayList<>();
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.sorted().toList()) {
                    String name = f.getFileName().toString();
                    if (name.endsWith(".crt")) {
                        cas.addAll(Pem.readCertificates(f));
                    } else if (name.endsWith(".cert")) {
                        certs.add(f);
                    }
                }
            }
            KeyManagerFactory kmf = null;
            if (!certs.isEmpty()) {
                Path cert = certs.get(0);
                Path key = cert.resolveSibling(cert.getFileName().toString().replaceFirst("\\.cert$", ".key"));
                if (!Files.exists(key)) {
                    throw new IllegalStateException("registry client certificate " + cert + " has no key " + key.getFileName());
                }
                PrivateKey pk = Pem.readPrivateKey(key);
                List<X509Certificate> chain = Pem.readCertificates(cert);
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry("client", pk, new char[0], chain.toArray(new X509Certificate[0]));
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, new char[0]);
            }
            TrustManager[] trust = null;
            if (!cas.isEmpty()) {
                KeyStore ts = KeyStore.getInstance("PKCS12");
                ts.load(null, null);
                for (int i = 0; i < cas.size(); i++) {
                    ts.setCertificateEntry("ca" + i, cas.get(i));
                }
                TrustManagerFactory own = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                own.init(ts);
                TrustManagerFactory jvm = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                jvm.init((KeyStore) null);
                trust = new TrustManager[] {new EitherTrust((X509TrustManager) own.getTrustManagers()[0],
                        (X509TrustManager) jvm.getTrustManagers()[0])};
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), trust, null);
            return Optional.of(ctx);
        } catch (IOException | java.security.GeneralSecurityException | RuntimeException e) {
            LOG.warn("registry certificates in {} cannot be used: {}", dir, e.getMessage());
            throw new io.dockgate.engine.EngineException(io.dockgate.engine.ErrorKind.UNAVAILABLE,
                    "the registry certificates in " + dir + " cannot be used: " + e.getMessage(), e);
        }
    }

    /** Trusts what the registry's own CAs or the JVM's trust. */
    private static final class EitherTrust extends javax.net.ssl.X509ExtendedTrustManager {
        private final X509TrustManager own;
        private final X509TrustManager jvm;

        EitherTrust(X509TrustManager own, X509TrustManager jvm) {
            this.own = own;
            this.jvm = jvm;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, java.net.Socket socket)
                throws java.security.cert.CertificateException {
            check(chain, authType, m -> ((javax.net.ssl.X509ExtendedTrustManager) m).checkServerTrusted(chain, authType, socket));
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine)
                throws java.security.cert.CertificateException {
            check(chain, authType, m -> ((javax.net.ssl.X509ExtendedTrustManager) m).checkServerTrusted(chain, authType, engine));
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws java.security.cert.CertificateException {
            check(chain, authType, m -> m.checkServerTrusted(chain, authType));
        }

        private interface Check {
            void run(X509TrustManager m) throws java.security.cert.CertificateException;
        }

        private void check(X509Certificate[] chain, String authType, Check check) throws java.security.cert.CertificateException {
            try {
                check.run(own);
            } catch (java.security.cert.CertificateException first) {
                check.run(jvm);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, java.net.Socket socket)
                throws java.security.cert.CertificateException {
            throw new java.security.cert.CertificateException("a registry client does not authenticate clients");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine)
                throws java.security.cert.CertificateException {
            throw new java.security.cert.CertificateException("a registry client does not authenticate clients");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws java.security.cert.CertificateException {
            throw new java.security.cert.CertificateException("a registry client does not authenticate clients");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            List<X509Certificate> all = new ArrayList<>(List.of(own.getAcceptedIssuers()));
            all.addAll(List.of(jvm.getAcceptedIssuers()));
            return all.toArray(new X509Certificate[0]);
        }
    }
}
