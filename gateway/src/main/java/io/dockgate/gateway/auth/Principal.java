package io.dockgate.gateway.auth;

import java.util.List;
import java.util.Optional;

/**
 * Who is calling: attached to every request before anything else looks at it. Over TLS the name is the
 * certificate's CN; over the Unix socket it is the user name of the peer's uid (or {@code uid:N} when
 * the uid has no name).
 */
public record Principal(Transport transport, String name, List<String> groups,
                        Optional<CertificateIdentity> certificate, Optional<PeerCredentials> peer) {

    public Principal {
        groups = List.copyOf(groups);
    }

    public static Principal ofCertificate(CertificateIdentity identity) {
        return new Principal(Transport.TLS, identity.commonName(), identity.groups(), Optional.of(identity), Optional.empty());
    }

    public static Principal ofPeer(PeerCredentials peer, String userName, List<String> groups) {
        return new Principal(Transport.UNIX, userName, groups, Optional.empty(), Optional.of(peer));
    }

    public static Principal anonymousTcp() {
        return new Principal(Transport.TCP_INSECURE, "anonymous", List.of(), Optional.empty(), Optional.empty());
    }
}
