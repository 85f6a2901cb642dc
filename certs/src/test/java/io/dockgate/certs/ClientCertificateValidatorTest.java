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

    @Test
    void malformedEmailNamesAreRefusedAsGoRefusesThem() {
        assertThatCode(() -> validator().validate(chain(pki.issue(pki.clientSpec("dana").email("dana@example.com")))))
                .doesNotThrowAnyException();
        assertRejected(pki.issue(pki.clientSpec("eve").email("invalid@address@example.com")),
                "malformed e-mail address in subjectAltName: invalid@address@example.com");
        assertRejected(pki.issue(pki.clientSpec("eve").email("no-domain@")), "malformed e-mail address");
        assertRejected(pki.issue(pki.clientSpec("eve").email("a@bad..example.com")), "malformed e-mail address");

        CertificateAuthority wellConstrained = pki.ca().issueIntermediate(CertificateSpec.builder().commonName("mail CA")
                .certificateAuthority(0).permittedEmail(".example.com").permittedEmail("boss@example.org").build());
        assertThatCode(() -> validator().validate(chain(wellConstrained.issue(pki.clientSpec("fay").email("fay@team.example.com").build()))))
                .doesNotThrowAnyException();
        CertificateAuthority badlyConstrained = pki.ca().issueIntermediate(CertificateSpec.builder().commonName("odd CA")
                .certificateAuthority(0).permittedEmail("invalid@invalid@example.com").build());
        assertRejected(badlyConstrained.issue(pki.clientSpec("gus").email("gus@example.com").build()),
                "malformed e-mail name constraint: invalid@invalid@example.com (in issuing certificate \"CN=odd CA\")");
        CertificateAuthority oddRoot = CertificateAuthority.createRoot(CertificateSpec.builder().commonName("odd root")
                .certificateAuthority(1).permittedEmail("invalid@invalid@example.com").build());
        IssuedCertificate hal = oddRoot.issue(pki.clientSpec("hal").build());
        ClientCertificateValidator trustingOddRoot = new ClientCertificateValidator(List.of(oddRoot.certificate()),
                RevocationList.of(List.of(), List.of(oddRoot.certificate()), "test"), Clock.systemUTC());
        assertThatThrownBy(() -> trustingOddRoot.validate(chain(hal))).isInstanceOf(CertificateRejectedException.class)
                .hasMessageContaining("malformed e-mail name constraint: invalid@invalid@example.com (in the trusted CA \"CN=odd root\")");
        assertThat(EmailNames.mailbox("\"quoted@local\"@example.com")).isTrue();
        assertThat(EmailNames.constraint("example.com")).isTrue();
        assertThat(EmailNames.constraint(".")).isFalse();
    }
}
