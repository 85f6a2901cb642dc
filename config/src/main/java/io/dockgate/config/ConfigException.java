package io.dockgate.config;

/**
 * A configuration error. The message names where the value came from (a file and its line, or a flag)
 * and the key, so that the person starting the daemon can fix it without reading code.
 */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
