package io.dockgate.gateway.cli;

import io.dockgate.certs.PkiException;
import io.dockgate.config.ConfigException;
import picocli.CommandLine;

/** The exit codes of every dockgate command, and the handler that chooses them. */
public final class ExitCodes {
    public static final int OK = 0;
    public static final int FAILURE = 1;
    public static final int USAGE = 2;
    public static final int CONFIG = 3;

    private ExitCodes() {
    }

    /** Prints the failure as one line a person can act on; a stack trace only with DOCKGATE_DEBUG set. */
    public static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parseResult) {
        if (System.getenv("DOCKGATE_DEBUG") != null) {
            e.printStackTrace(cl.getErr());
        }
        if (e instanceof ConfigException) {
            cl.getErr().println("dockgate: configuration error: " + e.getMessage());
            return CONFIG;
        }
        if (e instanceof IllegalArgumentException) {
            cl.getErr().println("dockgate: " + e.getMessage());
            return USAGE;
        }
        if (e instanceof PkiException) {
            cl.getErr().println("dockgate: " + e.getMessage());
            return FAILURE;
        }
        cl.getErr().println("dockgate: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
        return FAILURE;
    }
}
