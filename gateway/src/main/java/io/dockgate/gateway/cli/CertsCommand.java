package io.dockgate.gateway.cli;

import io.dockgate.certs.CertificateIndex;
import io.dockgate.certs.IssuedCertificate;
import io.dockgate.certs.KeyType;
import io.dockgate.certs.PkiDirectory;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dockgate certs}: the built-in PKI in a directory (see {@link PkiDirectory} for the layout). */
@Command(name = "certs", mixinStandardHelpOptions = true,
        description = "Manage the built-in PKI: CA, server and client certificates, revocation.",
        subcommands = {CertsCommand.Init.class, CertsCommand.Client.class, CertsCommand.Revoke.class,
                CertsCommand.ListCommand.class, CertsCommand.Crl.class})
public final class CertsCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (init, client, revoke, list, crl)");
    }

    static KeyType keyType(String text) {
        return KeyType.parse(text);
    }

    @Command(name = "init", mixinStandardHelpOptions = true,
            description = "Create a CA (ca.pem, ca-key.pem) and a server certificate (server-cert.pem, server-key.pem) "
                    + "with extendedKeyUsage serverAuth and SANs for every name and address, plus an empty CRL (crl.pem).")
    static final class Init implements Callable<Integer> {
        @Option(names = "--dir", required = true, description = "PKI directory")
        Path dir;
        @Option(names = "--hostname", description = "DNS name for the server certificate (repeatable; localhost is always included)")
        List<String> hostnames = new ArrayList<>();
        @Option(names = "--ip", description = "IP address for the server certificate (repeatable; 127.0.0.1 and ::1 are always included)")
        List<String> ips = new ArrayList<>();
        @Option(names = "--days", defaultValue = "825", description = "validity of the CA and server certificates in days (default: ${DEFAULT-VALUE})")
        int days;
        @Option(names = "--key-type", defaultValue = "ec", description = "ec (P-256, default) or rsa (3072 bits)")
        String keyType;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            if (days <= 0) {
                throw new IllegalArgumentException("--days must be positive");
            }
            List<String> names = new ArrayList<>(List.of("localhost"));
            hostnames.stream().filter(h -> !names.contains(h)).forEach(names::add);
            List<String> addresses = new ArrayList<>(List.of("127.0.0.1", "::1"));
            ips.stream().filter(a -> !addresses.contains(a)).forEach(addresses::add);
            PkiDirectory pki = new PkiDirectory(dir.toAbsolutePath(), Clock.systemUTC());
            IssuedCertificate server = pki.init(new PkiDirectory.InitRequest("dockgate CA", names, addresses,
                    Duration.ofDays(days), keyType(keyType)));
            var out = spec.commandLine().getOut();
            out.println("Created CA and server certificate (serial " + server.serialHex() + ") in " + pki.dir());
            out.println("  SANs: DNS " + String.join(", ", names) + "; IP " + String.join(", ", addresses));
            out.println("Start the daemon with:");
            out.println("  dockgate daemon -H tcp://0.0.0.0:2376 --tlsverify --tlscacert " + pki.path(PkiDirectory.CA_CERT)
                    + " --tlscert " + pki.path(PkiDirectory.SERVER_CERT) + " --tlskey " + pki.path(PkiDirectory.SERVER_KEY)
                    + " --tlscrl " + pki.path(PkiDirectory.CRL));
            return ExitCodes.OK;
        }
    }

    @Command(name = "client", mixinStandardHelpOptions = true,
            description = "Issue a client certificate (CN=USER, O=each group, extendedKeyUsage clientAuth) and write "
                    + "ca.pem, cert.pem and key.pem into OUTDIR, usable as DOCKER_CERT_PATH.")
    static final class Client implements Callable<Integer> {
        @Option(names = "--dir", required = true, description = "PKI directory")
        Path dir;
        @Option(names = "--name", required = true, description = "user name, written as the subject CN")
        String name;
        @Option(names = "--group", description = "group, written as a subject O attribute (repeatable)")
        List<String> groups = new ArrayList<>();
        @CommandLine.ArgGroup(exclusive = true)
        Validity validity;
        @Option(names = "--out", required = true, description = "output directory (DOCKER_CERT_PATH layout)")
        Path out;
        @Option(names = "--key-type", defaultValue = "ec", description = "ec (P-256, default) or rsa (3072 bits)")
        String keyType;
        @Option(names = "--host", defaultValue = "tcp://127.0.0.1:2376", description = "daemon address for the printed commands (default: ${DEFAULT-VALUE})")
        String host;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        static final class Validity {
            @Option(names = "--days", description = "validity in days (default 365)")
            Integer days;
            @Option(names = "--hours", description = "validity in hours")
            Integer hours;
        }

        @Override
        public Integer call() {
            if (name.isBlank() || name.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                throw new IllegalArgumentException("--name must be a non-empty printable name");
            }
            Duration duration = Duration.ofDays(365);
            if (validity != null && validity.days != null) {
                duration = Duration.ofDays(validity.days);
            } else if (validity != null && validity.hours != null) {
                duration = Duration.ofHours(validity.hours);
            }
            if (duration.isNegative() || duration.isZero()) {
                throw new IllegalArgumentException("the validity must be positive");
            }
            PkiDirectory pki = new PkiDirectory(dir.toAbsolutePath(), Clock.systemUTC());
            Path outDir = out.toAbsolutePath();
            IssuedCertificate client = pki.issueClient(new PkiDirectory.ClientRequest(name, groups, duration, keyType(keyType)), outDir);
            var o = spec.commandLine().getOut();
            o.println("Issued client certificate for " + name + (groups.isEmpty() ? "" : " (groups " + String.join(", ", groups) + ")")
                    + ", serial " + client.serialHex() + ", valid until " + client.certificate().getNotAfter().toInstant());
            o.println("Use it with environment variables:");
            o.println("  export DOCKER_HOST=" + host + " DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=" + outDir);
            o.println("or as a docker context:");
            o.println("  docker context create " + contextName(name) + " --docker \"host=" + host + ",ca=" + outDir.resolve("ca.pem")
                    + ",cert=" + outDir.resolve("cert.pem") + ",key=" + outDir.resolve("key.pem") + "\"");
            return ExitCodes.OK;
        }

        private static String contextName(String name) {
            String cleaned = name.replaceAll("[^A-Za-z0-9_.+-]", "-");
            return "dockgate-" + cleaned;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revoke a certificate and re-sign DIR/crl.pem. A running daemon picks the new CRL up within a "
                    + "second and closes the revoked certificate's open connections.")
    static final class Revoke implements Callable<Integer> {
        @Option(names = "--dir", required = true, description = "PKI directory")
        Path dir;
        @CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
        Target target;
        @Option(names = "--crl-days", defaultValue = "30", description = "days until the CRL's nextUpdate (default: ${DEFAULT-VALUE})")
        int crlDays;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        static final class Target {
            @Option(names = "--serial", description = "serial number in hex")
            String serial;
            @Option(names = "--cert", description = "PEM file of the certificate")
            Path cert;
        }

        @Override
        public Integer call() {
            PkiDirectory pki = new PkiDirectory(dir.toAbsolutePath(), Clock.systemUTC());
            CertificateIndex.Entry entry = target.serial != null
                    ? pki.revoke(target.serial, Duration.ofDays(crlDays))
                    : pki.revoke(target.cert, Duration.ofDays(crlDays));
            spec.commandLine().getOut().println("Revoked " + entry.subject() + " (serial " + entry.serial() + ") at "
                    + entry.revokedAt() + "; CRL written to " + pki.path(PkiDirectory.CRL));
            return ExitCodes.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List every issued certificate with subject, serial, expiry and status (valid, expired, revoked).")
    static final class ListCommand implements Callable<Integer> {
        @Option(names = "--dir", required = true, description = "PKI directory")
        Path dir;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PkiDirectory pki = new PkiDirectory(dir.toAbsolutePath(), Clock.systemUTC());
            var out = spec.commandLine().getOut();
            Instant now = Instant.now();
            out.printf("%-8s %-34s %-22s %-14s %s%n", "KIND", "SERIAL", "NOT AFTER", "STATUS", "SUBJECT");
            for (CertificateIndex.Entry e : pki.list()) {
                out.printf("%-8s %-34s %-22s %-14s %s%n", e.kind(), e.serial(), e.notAfter(), e.status(now), e.subject());
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "crl", mixinStandardHelpOptions = true,
            description = "Re-sign DIR/crl.pem with a fresh nextUpdate (run it before the current one passes).")
    static final class Crl implements Callable<Integer> {
        @Option(names = "--dir", required = true, description = "PKI directory")
        Path dir;
        @Option(names = "--crl-days", defaultValue = "30", description = "days until nextUpdate (default: ${DEFAULT-VALUE})")
        int crlDays;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PkiDirectory pki = new PkiDirectory(dir.toAbsolutePath(), Clock.systemUTC());
            var crl = pki.refreshCrl(Duration.ofDays(crlDays));
            spec.commandLine().getOut().println("CRL " + pki.path(PkiDirectory.CRL) + " re-signed, next update "
                    + crl.getNextUpdate().toInstant());
            return ExitCodes.OK;
        }
    }
}
