package io.dockgate.gateway;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import org.slf4j.LoggerFactory;

/** Sets the log level chosen by --log-level / --debug. */
public final class Logging {
    private Logging() {
    }

    public static void setLevel(String level) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        Level logback = switch (level) {
            case "debug" -> Level.DEBUG;
            case "warn" -> Level.WARN;
            case "error", "fatal" -> Level.ERROR;
            default -> Level.INFO;
        };
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(logback);
        context.getLogger("io.dockgate").setLevel(logback);
    }

    /** Writes out what the asynchronous appender still holds and stops logging (the daemon's last step). */
    public static void flush() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.stop();
        }
    }
}
