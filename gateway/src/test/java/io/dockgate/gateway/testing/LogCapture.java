package io.dockgate.gateway.testing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/** Captures what a logger writes during a test (the access log, the daemon's warnings); thread-safe. */
public final class LogCapture implements AutoCloseable {
    private final Logger logger;
    private final List<String> messages = new CopyOnWriteArrayList<>();
    private final List<String> errors = new CopyOnWriteArrayList<>();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            messages.add(event.getFormattedMessage());
            for (ch.qos.logback.classic.spi.IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
                messages.add(t.getClassName() + ": " + t.getMessage());
            }
            if (event.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.ERROR)) {
                errors.add(event.getLoggerName() + ": " + event.getFormattedMessage());
            }
        }
    };

    private final ch.qos.logback.classic.Level before;

    private LogCapture(String name, ch.qos.logback.classic.Level level) {
        logger = (Logger) LoggerFactory.getLogger(name);
        before = logger.getLevel();
        if (level != null) {
            logger.setLevel(level);
        }
        appender.start();
        logger.addAppender(appender);
    }

    public static LogCapture of(String loggerName) {
        return new LogCapture(loggerName, null);
    }

    /** Everything the logger writes, down to DEBUG, with the messages of the exceptions logged (for secrets). */
    public static LogCapture everything(String loggerName) {
        return new LogCapture(loggerName, ch.qos.logback.classic.Level.DEBUG);
    }

    public List<String> messages() {
        return List.copyOf(messages);
    }

    /** The ERROR messages, each with its logger's name. */
    public List<String> errors() {
        return List.copyOf(errors);
    }

    /** Waits up to 5 s for a message containing the text. */
    public String await(String text) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            for (String m : messages) {
                if (m.contains(text)) {
                    return m;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no log message containing \"" + text + "\" in " + messages);
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        logger.setLevel(before);
    }
}
