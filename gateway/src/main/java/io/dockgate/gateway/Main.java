package io.dockgate.gateway;

import io.dockgate.engine.EngineVersion;
import io.dockgate.gateway.cli.AuditCommand;
import io.dockgate.gateway.cli.CertsCommand;
import io.dockgate.gateway.cli.PolicyCommand;
import io.dockgate.gateway.cli.DaemonCommand;
import io.dockgate.gateway.cli.ExitCodes;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code dockgate}: the command line. {@code daemon} runs the daemon, {@code certs} manages the
 * built-in PKI, {@code version} prints the version. Exit codes: see {@link ExitCodes}.
 */
@Command(name = "dockgate", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A secured, Docker-compatible container daemon.",
        subcommands = {DaemonCommand.class, CertsCommand.class, PolicyCommand.class, AuditCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:failure at run time", "2:invalid command line",
                "3:invalid configuration (the daemon refused to start)"})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // Shims and runc are spawned on every container start: vfork spawns them without the extra exec
        // of jspawnhelper. Read once, when the first process starts.
        System.setProperty("jdk.lang.Process.launchMechanism", "VFORK");
        // Netty's pooled allocator in 1 MiB chunks instead of its adaptive one: the daemon's buffers are
        // small (request heads, TLS records, stream frames), and idle it keeps about 3.5 MiB less
        // resident (docs/benchmarks.md, session 5). Read when Netty's allocator class first loads; a
        // -D on the command line wins.
        System.setProperty("io.netty.allocator.type", System.getProperty("io.netty.allocator.type", "pooled"));
        System.setProperty("io.netty.allocator.maxOrder", System.getProperty("io.netty.allocator.maxOrder", "7"));
        // Netty's buffer-allocation events for Flight Recorder: registering them initialises JFR's whole
        // event metadata (130 classes, about 2 MiB) in a daemon that never records.
        System.setProperty("io.netty.jfr.enabled", System.getProperty("io.netty.jfr.enabled", "false"));
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(ExitCodes::handle);
        return cl.execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (daemon, certs, policy, audit)");
    }

    /** Version from the build. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            EngineVersion v = EngineVersion.current();
            return new String[] {"dockgate " + v.version() + " (commit " + v.gitCommit() + ", built " + v.buildTime() + ")"};
        }
    }
}
