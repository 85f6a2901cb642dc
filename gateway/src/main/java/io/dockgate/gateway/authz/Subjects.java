package io.dockgate.gateway.authz;

import io.dockgate.certs.CertificateInfo;
import io.dockgate.config.policy.Policy;
import io.dockgate.config.policy.PolicyLoader;
import io.dockgate.gateway.auth.CertificateIdentity;
import io.dockgate.gateway.auth.PeerCredentials;
import io.dockgate.gateway.auth.Principal;
import io.dockgate.gateway.auth.Transport;

/** Whether a principal is one a policy subject names. Every condition given must hold. */
public final class Subjects {
    private Subjects() {
    }

    public static boolean matches(Policy.Subject s, Principal p) {
        if (s.transport().isPresent() && !s.transport().get().equals(p.transport().wireName())) {
            return false;
        }
        if (p.transport() == Transport.TCP_INSECURE) {
            return false; // no identity: no subject names it
        }
        if (s.user().isPresent() && !s.user().get().equals("*") && !s.user().get().equals(p.name())) {
            return false;
        }
        if (s.group().isPresent() && !p.groups().contains(s.group().get())) {
            return false;
        }
        if (s.cn().isPresent() && (p.transport() != Transport.TLS || !s.cn().get().equals(p.name()))) {
            return false; // a TLS caller's name is its certificate's CN
        }
        boolean certificateField = s.o().isPresent() || s.ou().isPresent() || s.san().isPresent() || s.fingerprint().isPresent();
        if (certificateField) {
            if (p.certificate().isEmpty()) {
                return false;
            }
            CertificateIdentity c = p.certificate().get();
            if (s.o().isPresent() && !CertificateInfo.subjectAttribute(c.certificate(), "O").contains(s.o().get())) {
                return false;
            }
            if (s.ou().isPresent() && !CertificateInfo.subjectAttribute(c.certificate(), "OU").contains(s.ou().get())) {
                return false;
            }
            if (s.san().isPresent() && !c.subjectAltNames().contains(s.san().get())) {
                return false;
            }
            if (s.fingerprint().isPresent() && !s.fingerprint().get().equals(PolicyLoader.fingerprint(c.fingerprint()))) {
                return false;
            }
        }
        if (s.uid().isPresent() || s.gid().isPresent()) {
            if (p.peer().isEmpty()) {
                return false;
            }
            PeerCredentials peer = p.peer().get();
            if (s.uid().isPresent() && s.uid().getAsLong() != peer.uid()) {
                return false;
            }
            if (s.gid().isPresent() && s.gid().getAsLong() != peer.gid()) {
                return false;
            }
        }
        return true;
    }

    /**
     * The owner key stamped on what this principal creates: {@code tls:<CN>} or {@code unix:<uid>}. A
     * certificate renewed for the same CN keeps its containers.
     */
    public static String ownerKey(Principal p) {
        return switch (p.transport()) {
            case TLS -> "tls:" + p.name();
            case UNIX -> "unix:" + p.peer().map(PeerCredentials::uid).map(String::valueOf).orElse(p.name());
            case TCP_INSECURE -> "anonymous";
        };
    }
}
