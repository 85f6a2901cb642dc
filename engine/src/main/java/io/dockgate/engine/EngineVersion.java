package io.dockgate.engine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/** The engine's own version and build facts, from the build's version.properties. */
public record EngineVersion(String version, String gitCommit, String buildTime) {

    public static EngineVersion current() {
        Properties p = new Properties();
        try (InputStream in = EngineVersion.class.getResourceAsStream("/io/dockgate/engine/version.properties")) {
            if (in != null) {
                p.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            // defaults below
        }
        return new EngineVersion(p.getProperty("version", "unknown"), p.getProperty("commit", "unknown"),
                p.getProperty("buildTime", ""));
    }

    /**
     * The version clients see as the engine's: the Docker Engine release whose API (1.50) dockgate speaks,
     * with dockgate's own version after it. Clients such as Testcontainers compare it with Docker's.
     */
    public String dockerCompatible() {
        return "28.2.0-dockgate." + version();
    }
}
