package io.dockgate.certs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dockgate.certs.testing.TestPki;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The validator's verdict for each kind of certificate, with the reason it gives. */
class ClientCertificateValidatorTest {
    private final TestPki pki = TestPki.create();

    private ClientCertificateValidator validator() {
        return new ClientCertificateValidator(List.of(pki.ca().certificate()),
                RevocationList.of(List.of(pki.crl()), List.of(pki.ca().certificate()), "test"), Clock.systemUTC());
    }

    private static X509Certificate[] chain(IssuedCertificate c) {
        return c.chainWithoutRoot().toArray(new X509Certificate[0]);
    }

    private void assertRejected(IssuedCertificate c, String reasonPart) {
        assertThatThrownBy(() -> validator().validate(chain(c)))
                .isInstanceOf(CertificateRejectedException.class)
                .satisfies(e -> assertThat(((CertificateRejectedException) e).reason()).contains(reasonPart));
    }

    @Test
    void acceptsGoodEcRsaAndIntermediateIssuedClients() {
        assertThatCode(() -> validator().validate(chain(pki.client("alice", "ops")))).doesNotThrowAnyException();
        assertThatCode(() -> validator().validate(chain(pki.rsaClient("bob")))).doesNotThrowAnyException();
        CertificateAuthority intermediate = pki.intermediate("team CA");
        IssuedCertificate carol = intermediate.issue(pki.clientSpec("carol").build());
        assertThat(carol.chainWithoutRoot()).hasSize(2);
        assertThatCode(() -> validator().validate(chain(carol))).doesNotThrowAnyException();
    }

    @Test
    void rejectsEachBadCertificateWithItsReason() {
        assertRejected(pki.expiredClient("x"), "expired");
        assertRejected(pki.notYetValidClient("x"), "not valid before");
        assertRejected(pki.serverAuthOnlyClient("x"), "clientAuth");
        assertRejected(pki.noExtendedKeyUsageClient("x"), "clientAuth");
        assertRejected(pki.caFlaggedClient("x"), "CA certificate");
        assertRejected(pki.rsa1024Client("x"), "1024 bits");
        assertRejected(pki.sha1Client("x"), "SHA1");
        assertRejected(TestPki.selfSignedClient("x"), "not issued by the trusted CA");
        assertRejected(pki.wrongCaClient("x"), "not issued by the trusted CA");
        assertThatThrownBy(() -> validator().validate(new X509Certificate[0]))
                .hasMessageContaining("no client certificate");
    }

    @Test
    void rejectsRevokedLeafAndLeafWithoutItsIntermediate() {
        IssuedCertificate revoked = pki.client("mallory");
        pki.revoke(revoked);
        assertRejected(revoked, "revoked");
        IssuedCertificate viaIntermediate = pki.intermediate("team CA").issue(pki.clientSpec("dave").build());
        assertThatThrownBy(() -> validator().validate(new X509Certificate[] {viaIntermediate.certificate()}))
                .isInstanceOf(CertificateRejectedException.class);
    }

    @Test
    void refusesCrlSignedByAnotherKey() {
        TestPki other = TestPki.create();
        assertThatThrownBy(() -> RevocationList.of(List.of(other.crl()), List.of(pki.ca().certificate()), "crl.pem"))
                .isInstanceOf(PkiException.class)
                .hasMessageContaining("not signed by any certificate in the CA file");
    }
}
