package io.dockgate.gateway.listen;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Installs the Amazon Corretto Crypto Provider (AWS-LC, native) as the first JCA provider. The TLS
 * listener must use the JDK's TLS engine (Docker's half-closed hijacked streams need it), and the JDK's
 * own EC code spends about a millisecond per ECDSA signature: with the native provider the same engine
 * signs in tens of microseconds, so mutual-TLS handshakes cost what Go's cost. When the native library
 * cannot load, the JDK's providers stay and the daemon says so.
 */
public final class NativeCrypto {
    private static final Logger LOG = LoggerFactory.getLogger(NativeCrypto.class);
    private static volatile boolean installed;

    private NativeCrypto() {
    }

    public static synchronized void install() {
        if (installed) {
            return;
        }
        installed = true;
        try {
            AmazonCorrettoCryptoProvider.install();
            AmazonCorrettoCryptoProvider.INSTANCE.assertHealthy();
            // Key exchange on the NIST curves, which the native provider implements (X25519 would stay
            // in the JDK's Java code, a millisecond per handshake); clients that sent only an X25519
            // share get a HelloRetryRequest. Read when the first TLS context is created.
            if (System.getProperty("jdk.tls.namedGroups") == null) {
                System.setProperty("jdk.tls.namedGroups", "secp256r1,secp384r1,secp521r1");
            }
            LOG.info("native crypto: {} installed", AmazonCorrettoCryptoProvider.INSTANCE.getName());
        } catch (Throwable e) {
            LOG.warn("native crypto unavailable ({}): TLS uses the JDK's providers, handshakes are slower", e.toString());
        }
    }
}
