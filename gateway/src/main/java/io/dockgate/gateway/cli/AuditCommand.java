package io.dockgate.gateway.cli;

import io.dockgate.gateway.audit.AuditVerifier;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dockgate audit verify FILE...}: checks the hash chain of an audit log and its rotated files. */
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
            description = {"Verify an audit log's hash chain: finds any edited, removed or reordered line.",
                    "Rotated files are verified as one chain, oldest first (audit.log.1 audit.log); a later file alone"
                            + " with --after and the hash the file before it ended with."})
    static final class Verify implements Callable<Integer> {
        @Parameters(paramLabel = "FILE", arity = "1..*")
        List<Path> files;
        @Option(names = "--after", paramLabel = "HASH",
                description = "the hash the first file's first record follows (printed by verify for the file before it)")
        String after;

        @Override
        public Integer call() throws Exception {
            String name = files.stream().map(Path::toString).collect(java.util.stream.Collectors.joining(" + "));
            AuditVerifier.Result r = AuditVerifier.verify(files, Optional.ofNullable(after));
            if (r.ok()) {
                System.out.printf("%s: OK: %d record(s), chain intact; last record %d, hash %s%n", name, r.records(), r.lastSeq(),
                        r.lastHash() == null ? "-" : r.lastHash());
                return ExitCodes.OK;
            }
            System.out.printf("%s: TAMPERED: %s%n", name, r.problem().get());
            return ExitCodes.FAILURE;
        }
    }
}
