package io.dockgate.gateway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.dockgate.certs.Pem;
import io.dockgate.config.policy.Operations;
import io.dockgate.config.policy.Policy;
import io.dockgate.config.policy.PolicyLoader;
import io.dockgate.gateway.Daemon;
import io.dockgate.gateway.auth.CertificateIdentity;
import io.dockgate.gateway.auth.PeerCredentials;
import io.dockgate.gateway.auth.Principal;
import io.dockgate.gateway.auth.Transport;
import io.dockgate.gateway.authz.Authorizer;
import io.dockgate.gateway.authz.Decision;
import io.dockgate.gateway.authz.RequestFacts;
import io.dockgate.gateway.authz.Target;
import io.dockgate.gateway.http.OperationCatalog;
import io.dockgate.gateway.request.CanonicalPath;
import io.dockgate.gateway.request.DockerJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dockgate policy check|explain}: validate a policy file, and ask it about one request. */
@Command(name = "policy", mixinStandardHelpOptions = true, description = "Check an authorization policy or explain its decisions.",
        subcommands = {PolicyCommand.Check.class, PolicyCommand.Explain.class})
public final class PolicyCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (check, explain)");
    }

    /** Validates a policy: exit 0 when valid, 3 with the file, line and field otherwise. */
    @Command(name = "check", mixinStandardHelpOptions = true, description = "Validate a policy file (errors name the line and field).")
    static final class Check implements Callable<Integer> {
        @Parameters(paramLabel = "FILE", description = "the policy (YAML, or JSON when named *.json)")
        Path file;

        @Override
        public Integer call() {
            Policy p = PolicyLoader.load(file);
            System.out.printf("%s: valid: %d role(s), %d binding(s), mode %s%n", file, p.roles().size(), p.bindings().size(),
                    p.mode().name().toLowerCase(Locale.ROOT).replace('_', '-'));
            for (Policy.Binding b : p.bindings()) {
                System.out.printf("  %s (line %d): %d operation(s), scope %s%s%s%n", b.name(), b.line(), b.operations().size(),
                        b.scope().name().toLowerCase(Locale.ROOT),
                        b.shared().isEmpty() ? "" : " (shared images: " + String.join(", ", b.shared()) + ")",
                        b.operations().stream().anyMatch(o -> Operations.kind(o) == Operations.Kind.EXFILTRATION)
                                ? ", reads container data" : "");
            }
            return ExitCodes.OK;
        }
    }

    /** Says what the policy decides for one request and which rule decided it: exit 0 allowed, 1 denied. */
    @Command(name = "explain", mixinStandardHelpOptions = true,
            description = "Show the decision for one request and the rule that made it (exit 0: allowed, 1: denied).")
    static final class Explain implements Callable<Integer> {
        @Option(names = "--policy", required = true, paramLabel = "FILE", description = "the policy")
        Path policy;
        @Option(names = "--cert", paramLabel = "FILE", description = "the caller's client certificate (PEM): every certificate field")
        Path cert;
        @Option(names = "--user", paramLabel = "NAME", description = "the caller's name (certificate CN, or Unix user)")
        String user;
        @Option(names = "--group", paramLabel = "G", description = "a group of the caller (repeatable)")
        List<String> groups = new ArrayList<>();
        @Option(names = "--uid", paramLabel = "N", description = "a Unix-socket caller's uid")
        Integer uid;
        @Option(names = "--gid", paramLabel = "N", description = "a Unix-socket caller's gid (default: the uid)")
        Integer gid;
        @Option(names = "--body", paramLabel = "FILE", description = "the request body (JSON)")
        Path body;
        @Parameters(index = "0", paramLabel = "METHOD")
        String method;
        @Parameters(index = "1", paramLabel = "PATH", description = "the request target, e.g. /v1.45/containers/create")
        String target;

        @Override
        public Integer call() throws Exception {
            Policy p = PolicyLoader.load(policy);
            Principal principal = principal();
            OperationCatalog catalog = Daemon.catalog(null, null, List::of);
            int q = target.indexOf('?');
            CanonicalPath path = CanonicalPath.parse(q >= 0 ? target.substring(0, q) : target);
            Optional<OperationCatalog.Match> match = catalog.find(method.toUpperCase(Locale.ROOT), path);
            if (match.isEmpty()) {
                System.out.println("decision: deny\nrule: request-model\nreason: no such route (unknown routes are denied)");
                return ExitCodes.FAILURE;
            }
            OperationCatalog.Match m = match.get();
            io.dockgate.gateway.http.Operation op = m.operation();
            String operation = op.name();
            Authorizer authorizer = new Authorizer(Optional.of(p), false);
            Authorizer.Candidates candidates = authorizer.candidates(principal, operation);
            Optional<Decision> early = authorizer.early(candidates, principal, operation);
            Decision d;
            if (early.isPresent()) {
                d = early.get();
            } else {
                JsonNode json = null;
                Object model = null;
                if (op.body() == io.dockgate.gateway.http.Operation.Body.JSON) {
                    json = DockerJson.parse(body == null ? new byte[0] : Files.readAllBytes(body));
                    model = op.model().apply(json);
                }
                Map<String, String> query = new HashMap<>();
                if (q >= 0) {
                    for (String kv : target.substring(q + 1).split("&")) {
                        int eq = kv.indexOf('=');
                        if (eq > 0) {
                            query.put(java.net.URLDecoder.decode(kv.substring(0, eq), java.nio.charset.StandardCharsets.UTF_8),
                                    java.net.URLDecoder.decode(kv.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8));
                        }
                    }
                }
                query.putAll(m.params());
                Target t = op.target() == Target.Kind.NONE ? Target.NONE : Target.ownedBy(candidates.owner());
                d = authorizer.decide(candidates, principal, operation, op.judge(), new RequestFacts(json, model, query,
                        RequestFacts.Lookups.NONE), t);
            }
            System.out.println("operation: " + operation + " (" + Operations.kind(operation).name().toLowerCase(Locale.ROOT) + ")");
            System.out.println("caller: " + principal.transport().wireName() + " \"" + principal.name() + "\" groups " + principal.groups()
                    + ", owner key " + candidates.owner());
            System.out.println("decision: " + (d.allowed() ? "allow" : "deny"));
            System.out.println("rule: " + d.rule());
            System.out.println("reason: " + d.reason());
            if (d.ownScope()) {
                System.out.println("scope: own: only the caller's own containers (others answer 404; lists are filtered)");
            }
            d.binding().ifPresent(b -> {
                if (!b.limits().equals(Policy.Limits.NONE)) {
                    System.out.println("limits: " + b.limits());
                }
            });
            return d.allowed() ? ExitCodes.OK : ExitCodes.FAILURE;
        }

        private Principal principal() throws Exception {
            if (cert != null) {
                X509Certificate leaf = Pem.readCertificates(cert).get(0);
                return Principal.ofCertificate(CertificateIdentity.of(leaf));
            }
            if (user == null && uid == null) {
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "give --cert, --user or --uid");
            }
            if (uid != null) {
                int g = gid != null ? gid : uid;
                return Principal.ofPeer(new PeerCredentials(0, uid, g), user != null ? user : "uid:" + uid, groups);
            }
            return new Principal(Transport.TLS, user, groups, Optional.empty(), Optional.empty());
        }
    }
}
