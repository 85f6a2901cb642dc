package io.dockgate.gateway.cli;

import io.dockgate.gateway.audit.AuditVerifier;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code dockgate audit verify FILE}: checks the hash chain of an audit log. */
@Command(name = "audit", mixinStandardHelpOptions = true, description = "Work with the audit log.",
        subcommands = {AuditCommand.Verify.class})
public final class AuditCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (verify)");
    }

    /** Exit 0 when the chain is intact, 1 with the first broken line otherwise. */
    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Verify an audit log's hash chain: finds any edited, removed or reordered line.")
    static final class Verify implements Callable<Integer> {
        @Parameters(paramLabel = "FILE")
        Path file;

        @Override
        public Integer call() throws Exception {
            AuditVerifier.Result r = AuditVerifier.verify(file);
            if (r.ok()) {
                System.out.printf("%s: OK: %d record(s), chain intact; last record %d, hash %s%n", file, r.records(), r.lastSeq(),
                        r.lastHash() == null ? "-" : r.lastHash());
                return ExitCodes.OK;
            }
            System.out.printf("%s: TAMPERED: %s%n", file, r.problem().get());
            return ExitCodes.FAILURE;
        }
    }
}
