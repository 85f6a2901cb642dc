package io.dockgate.gateway.auth;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

    /** The fields logs and audit records carry, in a stable order. */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("transport", transport.wireName());
        m.put("name", name);
        m.put("groups", groups);
        certificate.ifPresent(c -> {
            m.put("subject", c.subject());
            m.put("serial", c.serial());
            m.put("fingerprint", c.fingerprint());
        });
        peer.ifPresent(p -> {
            m.put("uid", p.uid());
            m.put("gid", p.gid());
            m.put("pid", p.pid());
        });
        return m;
    }
}
