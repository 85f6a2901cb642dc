package io.dockgate.gateway.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.certs.IssuedCertificate;
import io.dockgate.certs.testing.TestPki;
import io.dockgate.config.ConfigKey;
import io.dockgate.engine.testing.TestImages;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A daemon with mutual TLS, a Unix socket (root is the administrator there) and a realistic policy: an
 * operator group scoped to its own containers, a read-only viewer group, a CI identity limited to one
 * image pattern with resource limits required, a rate-limited identity, and a tenants group (carol, dave)
 * with every image operation in namespaces of their own, busybox shared. Clients get DOCKER_CERT_PATH
 * bundles; busybox is imported by root.
 */
public final class AuthzFixture implements AutoCloseable {
    public final Path dir;
    public final Path shared;
    public final Path policy;
    public final TestPki pki;
    public final TestDaemon daemon;
    public final Map<String, IssuedCertificate> certs = new HashMap<>();
    private final Map<String, Path> bundles = new HashMap<>();

    public static String policyText(Path shared) {
        return """
                version: 1
                roles:
                  basics: [system.ping, system.version, system.info, network.list, network.inspect]
                  viewer: [system.*, container.list, container.inspect, container.top, container.wait, image.list,
                           image.inspect, volume.list, volume.inspect]
                  lifecycle: [container.create, container.start, container.stop, container.kill, container.restart,
                              container.delete, container.wait, container.resize, container.update, container.rename]
                  reader: [container.logs, container.attach, container.exec, exec.start, exec.inspect, exec.resize,
                           container.archive.stat, container.archive.get, container.archive.put, container.export]
                bindings:
                  - name: admins
                    subjects: [{group: admins}, {uid: 0}]
                    operations: ["*"]
                    constraints: {unrestricted: true}
                  - name: operators
                    subjects: [{group: ops}]
                    roles: [basics, viewer, lifecycle, reader]
                    operations: [volume.create, volume.delete, volume.prune, network.create, network.delete, network.connect, network.disconnect,
                                 image.build, container.commit, service.create, service.update, service.list, service.inspect,
                                 service.delete]
                    scope: own
                    shared: ["busybox:*"]
                    constraints:
                      bindMounts: [{path: %s, readOnly: true}]
                      exec: {privileged: false, root: true}
                      ports: {hostIps: [127.0.0.1], range: 20000-29999}
                    limits: {streams: 3, containers: 6}
                  - name: ci
                    subjects: [{cn: ci-runner}]
                    roles: [basics, viewer, lifecycle]
                    operations: [container.logs, container.attach, image.build, image.create, image.push, registry.login,
                                 image.search, image.distribution]
                    scope: own
                    shared: ["busybox:*"]
                    constraints:
                      images: ["busybox:*", "127.0.0.1:*/ci/*"]
                      registries: ["127.0.0.1:*"]
                      root: false
                      resources:
                        memory: {required: true, max: 256m}
                        pids: {required: true, max: 100}
                    limits: {containers: 2}
                  - name: tenants
                    subjects: [{group: tenants}]
                    roles: [basics, viewer, lifecycle, reader]
                    operations: [image.*, container.commit]
                    scope: own
                    shared: ["busybox:*"]
                  - name: viewers
                    subjects: [{group: viewers}]
                    roles: [viewer]
                  - name: hasty
                    subjects: [{cn: hasty}]
                    roles: [basics]
                    limits: {rate: 1, burst: 3}
                """.formatted(shared);
    }

    /** The private dockerd guarded in upstream mode, or null for the embedded engine. */
    public final Dockerd upstream;

    public AuthzFixture(Path dir) throws Exception {
        this(dir, false);
    }

    /**
     * @param upstreamMode guard a private dockerd 20.10 ({@code --upstream unix://...}) instead of running the
     *                     embedded engine: the same policy, identities and clients
     */
    public AuthzFixture(Path dir, boolean upstreamMode) throws Exception {
        Prerequisites.requireRoot();
        this.dir = dir;
        this.shared = dir.resolve("shared");
        Files.createDirectories(shared);
        Files.writeString(shared.resolve("data.txt"), "shared data\n");
        Files.createSymbolicLink(shared.resolve("etc-link"), Path.of("/etc"));
        this.policy = dir.resolve("policy.yaml");
        Files.writeString(policy, policyText(shared));
        pki = TestPki.create();
        Path pkiDir = dir.resolve("pki");
        pki.writeServerFiles(pkiDir);
        for (String[] who : List.of(new String[] {"alice", "ops"}, new String[] {"bob", "ops"}, new String[] {"val", "viewers"},
                new String[] {"ci-runner"}, new String[] {"hasty"}, new String[] {"mallory", "nobody"}, new String[] {"carol", "tenants"}, new String[] {"dave", "tenants"})) {
            IssuedCertificate cert = who.length > 1 ? pki.client(who[0], who[1]) : pki.client(who[0]);
            certs.put(who[0], cert);
            bundles.put(who[0], pki.writeClientBundle(cert, dir.resolve("clients").resolve(who[0])));
        }
        Map<ConfigKey, Object> flags = TestDaemon.tlsFlags(dir, pkiDir);
        flags.put(ConfigKey.HOSTS, List.of("tcp://127.0.0.1:0", "unix://" + socket()));
        flags.put(ConfigKey.AUTHZ_POLICY, policy.toString());
        flags.put(ConfigKey.MAX_REQUEST_BODY, "256k");
        upstream = upstreamMode ? Dockerd.start(dir.resolve("dockerd")) : null;
        if (upstream != null) {
            flags.put(ConfigKey.UPSTREAM, "unix://" + upstream.socket());
        }
        try {
            daemon = TestDaemon.start(flags, dir);
        } catch (Exception | Error e) {
            if (upstream != null) {
                upstream.close(); // a fixture that never started is never closed: its dockerd would outlive the test
            }
            throw e;
        }
        DockerCli.Result imported = root("import", "-c", "CMD [\"sh\"]", TestImages.busyboxTar(dir).toString(), "busybox:latest");
        assertThat(imported.exitCode()).as(imported.toString()).isZero();
        assertThat(root("tag", "busybox:latest", "other:1").exitCode()).isZero();
    }

    public Path socket() {
        return dir.resolve("dg.sock");
    }

    /** The docker CLI as root on the Unix socket (the administrator). */
    public DockerCli.Result root(String... args) throws Exception {
        return DockerCli.run(dir.resolve("cfg-root"), DockerCli.unixEnv(socket()), args);
    }

    /** The docker CLI over mutual TLS as one of the fixture's identities. */
    public DockerCli.Result as(String who, String... args) throws Exception {
        return DockerCli.run(dir.resolve("cfg-" + who), DockerCli.tlsEnv("tcp://127.0.0.1:" + daemon.tcpPort(), bundles.get(who)), args);
    }

    /** As {@link #as}, failing the test unless the command exits 0. */
    public String ok(String who, String... args) throws Exception {
        DockerCli.Result r = as(who, args);
        assertThat(r.exitCode()).as(who + ": docker " + String.join(" ", args) + "\n" + r).isZero();
        return r.stdout().trim();
    }

    /**
     * A raw request as this fixture's engine takes it: in upstream mode the request line's /v1.45/ becomes
     * /v1.41/, dockerd 20.10's newest (dockgate forwards the version a client asks for; dockerd refuses a
     * newer one, as clients that negotiate through /_ping never ask).
     */
    public byte[] versioned(byte[] request) {
        if (upstream == null) {
            return request;
        }
        String text = new String(request, StandardCharsets.ISO_8859_1);
        int eol = text.indexOf("\r\n");
        if (eol < 0) {
            return request;
        }
        return (text.substring(0, eol).replace("/v1.45/", "/v1.41/") + text.substring(eol)).getBytes(StandardCharsets.ISO_8859_1);
    }

    public String versioned(String request) {
        return new String(versioned(request.getBytes(StandardCharsets.ISO_8859_1)), StandardCharsets.ISO_8859_1);
    }

    /** Sends raw bytes over mutual TLS as an identity and returns the first response (or "" if the connection closed). */
    public String raw(String who, byte[] request) throws Exception {
        byte[] bytes = versioned(request);
        try (TlsClient c = TlsClient.connect(daemon.tcpPort(), pki.ca().certificate(), certs.get(who), "TLSv1.3")) {
            OutputStream out = c.socket().getOutputStream();
            Thread writer = new Thread(() -> {
                try {
                    out.write(bytes);
                    out.flush();
                } catch (IOException e) {
                    // the daemon may refuse and close before everything is sent (413)
                }
            });
            writer.start();
            InputStream in = c.input();
            try {
                return RawHttp.readResponse(in);
            } catch (IOException e) {
                return "";
            }
        }
    }

    public String raw(String who, String request) throws Exception {
        return raw(who, request.getBytes(StandardCharsets.ISO_8859_1));
    }

    public AuditTail audit() {
        return daemon.audit();
    }

    @Override
    public void close() throws Exception {
        DockerCli.Result ids = root("ps", "-aq");
        for (String id : ids.stdout().split("\\s+")) {
            if (!id.isBlank()) {
                root("rm", "-f", id);
            }
        }
        for (String n : root("network", "ls", "-q", "--filter", "type=custom").stdout().split("\\s+")) {
            if (!n.isBlank()) {
                root("network", "rm", n); // its bridge goes with it
            }
        }
        daemon.close();
        if (upstream != null) {
            upstream.close();
            // swarm mode's bridge outlives the swarm and dockerd's own cleanup
            new ProcessBuilder("ip", "link", "del", "docker_gwbridge").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        }
    }
}
