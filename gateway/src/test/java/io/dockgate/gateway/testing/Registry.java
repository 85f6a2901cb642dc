package io.dockgate.gateway.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's docker-registry (distribution 2.8) on 127.0.0.1 with a free port, anonymous, with token
 * authentication or with htpasswd (Basic), filled with skopeo. A missing package fails the test with what to install.
 */
public final class Registry implements AutoCloseable {
    private final Process process;
    private final String address;
    private final int port;
    private final Path storage;

    private Registry(Process process, String address, int port, Path storage) {
        this.process = process;
        this.address = address;
        this.port = port;
        this.storage = storage;
    }

    /** TLS for a registry: its certificate and key (PEM files), and a CA its clients must present a certificate of. */
    public record Tls(Path certificate, Path key, Path clientCa) {
    }

    /**
     * @param tokenAuth null for anonymous; else "realm|service|issuer|rootcertbundle"
     */
    public static Registry start(Path dir, String tokenAuth) throws Exception {
        return start(dir, tokenAuth, null);
    }

    /** A registry with htpasswd (Basic) authentication of one user (bcrypt, as docker-registry requires). */
    public static Registry startWithPassword(Path dir, String user, String password) throws Exception {
        Files.createDirectories(dir);
        byte[] salt = new byte[16];
        new java.security.SecureRandom().nextBytes(salt);
        String hash = org.bouncycastle.crypto.generators.OpenBSDBCrypt.generate("2y", password.toCharArray(), salt, 6);
        Path file = dir.resolve("htpasswd");
        Files.writeString(file, user + ":" + hash + "\n");
        return start(dir, null, file);
    }

    private static Registry start(Path dir, String tokenAuth, Path htpasswd) throws Exception {
        return start(dir, "127.0.0.1", null, tokenAuth, htpasswd);
    }

    /** An anonymous registry on an address of a network the test made, over TLS when given. */
    public static Registry startOn(Path dir, String address, Tls tls) throws Exception {
        return start(dir, address, tls, null, null);
    }

    private static Registry start(Path dir, String address, Tls tls, String tokenAuth, Path htpasswd) throws Exception {
        for (String tool : List.of("/usr/bin/docker-registry", "/usr/bin/skopeo")) {
            if (!Files.isExecutable(Path.of(tool))) {
                throw new AssertionError(tool + " is missing: apt-get install docker-registry skopeo (the setup script does this)");
            }
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Files.createDirectories(dir);
        StringBuilder config = new StringBuilder("""
                version: 0.1
                log:
                  level: warn
                storage:
                  filesystem:
                    rootdirectory: %s
                http:
                  addr: %s:%d
                """.formatted(dir.resolve("data"), address, port));
        if (tls != null) {
            config.append("""
                      tls:
                        certificate: %s
                        key: %s
                    """.formatted(tls.certificate(), tls.key()));
            if (tls.clientCa() != null) {
                config.append("""
                            clientcas:
                              - %s
                        """.formatted(tls.clientCa()));
            }
        }
        if (tokenAuth != null) {
            String[] t = tokenAuth.split("\\|");
            config.append("""
                    auth:
                      token:
                        realm: %s
                        service: %s
                        issuer: %s
                        rootcertbundle: %s
                    """.formatted(t[0], t[1], t[2], t[3]));
        }
        if (htpasswd != null) {
            config.append("""
                    auth:
                      htpasswd:
                        realm: test
                        path: %s
                    """.formatted(htpasswd));
        }
        Path file = dir.resolve("config.yml");
        Files.writeString(file, config.toString());
        Process p = new ProcessBuilder("docker-registry", "serve", file.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("registry.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            try (java.net.Socket s = new java.net.Socket(address, port)) {
                return new Registry(p, address, port, dir.resolve("data"));
            } catch (IOException e) {
                if (!p.isAlive()) {
                    throw new AssertionError("docker-registry exited: " + Files.readString(dir.resolve("registry.log")));
                }
                Thread.sleep(50);
            }
        }
        throw new AssertionError("docker-registry did not start");
    }

    public String host() {
        return address + ":" + port;
    }

    public Path storage() {
        return storage;
    }

    /** skopeo copy of a docker-archive into the registry (format: v2s2 or oci). */
    public void push(Path dockerArchive, String repoTag, String format, String... extra) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("skopeo", "copy", "--quiet", "--format", format,
                "--dest-tls-verify=false"));
        command.addAll(List.of(extra));
        command.add("docker-archive:" + dockerArchive);
        command.add("docker://" + host() + "/" + repoTag);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("skopeo failed: " + out);
        }
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** {@code skopeo inspect --tls-verify=false ARGS}: what a registry holds, as JSON (fails the test on an error). */
    public static com.fasterxml.jackson.databind.JsonNode inspect(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("skopeo", "inspect", "--tls-verify=false"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("skopeo inspect failed: " + out);
        }
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(out);
    }
}
