package io.dockgate.gateway.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.dockgate.gateway.testing.DockerCli;
import io.dockgate.gateway.testing.RawHttp;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * What upstream mode records that the upstream cannot label, per tenant: anonymous volumes (the
 * container's creator's), and image tenancy, through the docker CLI over mutual TLS, dockgate guarding a private
 * dockerd 20.10, which has one set of image names: tenants (carol, dave: scope own, busybox shared) each
 * reach their own names, the images they hold and the shared busybox; a name another namespace has is
 * refused, a load's names before the upstream may take the archive's end (checked as the upstream's root);
 * rmi and prune let go of a tenant's names and holds, the image going only when nobody else has it.
 */
@AuthzFixtureTest.UpstreamMode
class UpstreamTenancyTest extends AuthzFixtureTest {


    private static void refusedName(DockerCli.Result r) {
        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).as(r.toString()).contains("the upstream engine has one set of image names");
    }

    /** The upstream's root: dockerd's own socket, past dockgate. */
    private static DockerCli.Result upstreamRoot(String... args) throws Exception {
        return DockerCli.run(tmp.resolve("upstream-root-config"), DockerCli.unixEnv(f.upstream.socket()), args);
    }


    @Test
    void tenantsReachTheirOwnAndSharedImagesOnlyAndCannotTakeAnothersName() throws Exception {
        String carols = uniqueImage("carol", "app:1");
        String busybox = f.root("image", "inspect", "-f", "{{.Id}}", "busybox").stdout().trim();
        String others = uniqueImage("root", "other:1");
        assertThat(f.ok("carol", "run", "--rm", "app:1", "cat", "/unique")).isNotEmpty();

        // lists: one's own and the shared busybox; the administrator's other:1 (not shared) and the other's are not there
        assertThat(f.ok("carol", "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").lines())
                .containsExactlyInAnyOrder("app:1 " + carols.substring(7, 19), "busybox:latest " + busybox.substring(7, 19));
        assertThat(f.ok("dave", "images", "--format", "{{.Repository}}:{{.Tag}}").lines()).containsExactly("busybox:latest");
        assertThat(f.root("images", "--format", "{{.Repository}}:{{.Tag}}").stdout()).contains("app:1", "other:1");
        assertThat(f.root("images", "--filter", "owner=tls:carol", "--format", "{{.Repository}}:{{.Tag}}").stdout().trim()).isEqualTo("app:1");

        // every way dave could name carol's image (or the administrator's unshared one)
        for (String ref : new String[] {"app:1", carols, carols.substring(7, 19), carols.substring(7, 12), "other:1", others}) {
            missingImage(f.as("dave", "image", "inspect", ref));
            missingImage(f.as("dave", "history", ref));
            missingImage(f.as("dave", "tag", ref, "stolen:1"));
            missingImage(f.as("dave", "save", "-o", tmp.resolve("stolen.tar").toString(), ref));
            missingImage(f.as("dave", "rmi", ref));
            missingImage(f.as("dave", "create", "--pull", "never", ref));
        }
        assertThat(f.as("dave", "system", "df", "--format", "{{.Type}} {{.TotalCount}}").stdout().lines()).contains("Images 1");

        // one set of names upstream: dave cannot take carol's name, nor the shared one, nor the administrator's
        refusedName(f.as("dave", "tag", "busybox", "app:1"));
        refusedName(f.as("dave", "tag", "busybox", "busybox:latest"));
        refusedName(f.as("dave", "tag", "busybox", "other:1"));
        assertThat(f.ok("carol", "image", "inspect", "-f", "{{.Id}}", "app:1")).isEqualTo(carols);
        assertThat(upstreamRoot("image", "inspect", "-f", "{{.Id}}", "app:1").stdout().trim()).isEqualTo(carols);
        // a name nobody has is his
        f.ok("dave", "tag", "busybox", "dave-box:1");
        missingImage(f.as("carol", "image", "inspect", "dave-box:1"));

        // shared images are used, not removed
        DockerCli.Result shared = f.as("dave", "rmi", "busybox");
        assertThat(shared.exitCode()).isNotZero();
        assertThat(shared.stderr()).contains("is shared with you by the authorization policy");
        // by ID: dave lets go of his name of busybox's image; the image and its common name stay
        assertThat(f.ok("dave", "rmi", busybox)).contains("Untagged: dave-box:1").doesNotContain("Deleted");
        assertThat(f.root("image", "inspect", "-f", "{{.Id}}", "busybox").stdout().trim()).isEqualTo(busybox);

        // carol's rmi by name: the image was hers only, it goes
        assertThat(f.ok("carol", "rmi", "app:1")).contains("Untagged: app:1", "Deleted: " + carols);
        assertThat(upstreamRoot("image", "inspect", carols).exitCode()).isNotZero();
        f.root("rmi", "other:1");
    }

    @Test
    void aLoadIsJudgedOnItsNamesBeforeTheUpstreamTakesItAndHoldsOutliveAnothersDelete() throws Exception {
        String id = uniqueImage("root", "layered:1");
        Path named = tmp.resolve("layered.tar");
        Path unnamed = tmp.resolve("layered-by-id.tar");
        assertThat(f.root("save", "-o", named.toString(), "layered:1").exitCode()).isZero();
        assertThat(f.root("save", "-o", unnamed.toString(), id).exitCode()).isZero();
        assertThat(f.root("rmi", "layered:1").exitCode()).isZero();

        // carol loads it: the name is hers
        assertThat(f.ok("carol", "load", "-i", named.toString())).contains("Loaded image: layered:1");
        assertThat(f.ok("carol", "image", "inspect", "-f", "{{.Id}}", "layered:1")).isEqualTo(id);
        // dave's load of an archive naming layered:1 is refused, and the upstream kept carol's name as it was
        String daves = uniqueImage("dave", "dave-layered:1");
        Path davesArchive = tmp.resolve("daves.tar");
        f.ok("dave", "save", "-o", davesArchive.toString(), "dave-layered:1");
        f.ok("dave", "rmi", "dave-layered:1");
        Path renamed = renamedArchive(davesArchive, "dave-layered:1", "layered:1");
        DockerCli.Result stolen = f.as("dave", "load", "-i", renamed.toString());
        refusedName(stolen);
        assertThat(upstreamRoot("image", "inspect", "-f", "{{.Id}}", "layered:1").stdout().trim()).isEqualTo(id);
        assertThat(upstreamRoot("image", "inspect", daves).exitCode()).as("nothing of the refused archive was loaded").isNotZero();
        // an archive it cannot read as the upstream would (compressed) is refused for a tenant
        Path gz = tmp.resolve("layered.tar.gz");
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(gz))) {
            Files.copy(renamed, out);
        }
        DockerCli.Result compressed = f.as("dave", "load", "-i", gz.toString());
        assertThat(compressed.exitCode()).isNotZero();
        assertThat(compressed.stderr()).contains("send an uncompressed tar");
        assertThat(upstreamRoot("image", "inspect", daves).exitCode()).isNotZero();

        // dave loads the same image without a name: he holds it by ID
        assertThat(f.ok("dave", "load", "-i", unnamed.toString())).contains("Loaded image ID: " + id);
        assertThat(f.ok("dave", "images", "-q", "--no-trunc")).contains(id);
        String running = f.ok("dave", "run", "-d", id, "sleep", "300");
        // carol's rmi lets go of her name; the image dave holds stays, and runs
        assertThat(f.ok("carol", "rmi", "layered:1")).contains("Untagged: layered:1").doesNotContain("Deleted");
        missingImage(f.as("carol", "image", "inspect", id));
        assertThat(f.ok("dave", "exec", running, "echo", "alive")).isEqualTo("alive");
        f.ok("dave", "rm", "-f", running);
        // dave's prune removes his dangling image, and nothing of the others'
        assertThat(f.ok("dave", "image", "prune", "-f")).contains("deleted: " + id);
        assertThat(upstreamRoot("image", "inspect", id).exitCode()).isNotZero();
        assertThat(f.root("image", "inspect", "busybox").exitCode()).isZero();
    }

    /**
     * A load whose client dies after sending everything but the archive's end-of-archive marker (its bytes
     * ending between entries, manifest.json among them): the upstream must see a broken body, never one that
     * ends there cleanly, which it would load; for a tenant (names never judged) and for the administrator.
     */
    @Test
    void aLoadCutOffByItsClientLoadsNothing() throws Exception {
        String carols = uniqueImage("carol", "cut:1");
        String daves = uniqueImage("dave", "dave-cut:1");
        Path saved = tmp.resolve("dave-cut.tar");
        f.ok("dave", "save", "-o", saved.toString(), "dave-cut:1");
        f.ok("dave", "rmi", "dave-cut:1");
        byte[] archive = Files.readAllBytes(renamedArchive(saved, "dave-cut:1", "cut:1"));
        int end = archive.length;
        while (end >= 512 && java.util.Arrays.equals(java.util.Arrays.copyOfRange(archive, end - 512, end), new byte[512])) {
            end -= 512;
        }
        byte[] head = ("POST /v1.41/images/load?quiet=1 HTTP/1.1\r\nHost: d\r\nContent-Type: application/x-tar\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(end) + "\r\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        java.io.ByteArrayOutputStream cut = new java.io.ByteArrayOutputStream();
        cut.write(head);
        cut.write(archive, 0, end);
        cut.write("\r\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));

        try (io.dockgate.gateway.testing.TlsClient c = io.dockgate.gateway.testing.TlsClient.connect(f.daemon.tcpPort(),
                f.pki.ca().certificate(), f.certs.get("dave"), "TLSv1.3")) {
            c.socket().getOutputStream().write(cut.toByteArray());
            c.socket().getOutputStream().flush();
            Thread.sleep(1000);
            c.socket().setSoLinger(true, 0); // killed: the connection breaks off
        }
        try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            ch.connect(java.net.UnixDomainSocketAddress.of(f.socket()));
            ch.write(java.nio.ByteBuffer.wrap(cut.toByteArray()));
            Thread.sleep(1000);
        }
        Thread.sleep(2000);
        assertThat(upstreamRoot("image", "inspect", "-f", "{{.Id}}", "cut:1").stdout().trim()).as("carol's name where it was").isEqualTo(carols);
        assertThat(upstreamRoot("image", "inspect", daves).exitCode()).as("nothing of the cut-off archive was loaded").isNotZero();
        f.ok("carol", "rmi", "cut:1");
    }

    /** The archive with its one name changed in manifest.json and repositories (a tar rewritten entry by entry). */
    private static Path renamedArchive(Path archive, String from, String to) throws Exception {
        Path out = tmp.resolve("renamed-" + to.replace(':', '-') + ".tar");
        String repoFrom = from.substring(0, from.indexOf(':'));
        String repoTo = to.substring(0, to.indexOf(':'));
        try (var in = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(Files.newInputStream(archive));
             var w = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(Files.newOutputStream(out))) {
            w.setLongFileMode(org.apache.commons.compress.archivers.tar.TarArchiveOutputStream.LONGFILE_POSIX);
            org.apache.commons.compress.archivers.tar.TarArchiveEntry e;
            while ((e = in.getNextTarEntry()) != null) {
                byte[] data = in.readAllBytes();
                if (e.getName().equals("manifest.json") || e.getName().equals("repositories")) {
                    data = new String(data, java.nio.charset.StandardCharsets.UTF_8).replace(from, to)
                            .replace("\"" + repoFrom + "\"", "\"" + repoTo + "\"").getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    e.setSize(data.length);
                }
                w.putArchiveEntry(e);
                w.write(data);
                w.closeArchiveEntry();
            }
        }
        return out;
    }

    @Test
    void buildsCommitsAndTheirEventsAreTheBuildersOwn() throws Exception {
        Path context = Files.createDirectories(tmp.resolve("build-ctx"));
        Files.writeString(context.resolve("Dockerfile"), "FROM busybox\nRUN echo built > /made\n");
        DockerCli.Result built = f.as("carol", "build", "-q", "-t", "built:1", context.toString());
        assertThat(built.exitCode()).as(built.toString()).isZero();
        assertThat(f.ok("carol", "run", "--rm", "built:1", "cat", "/made")).isEqualTo("built");
        missingImage(f.as("dave", "image", "inspect", "built:1"));
        missingImage(f.as("dave", "image", "inspect", built.stdout().trim()));
        // a build onto another's name, or from another's image, is refused before the upstream builds
        refusedName(f.as("dave", "build", "-q", "-t", "built:1", context.toString()));
        Path fromCarols = Files.createDirectories(tmp.resolve("build-from-carols"));
        Files.writeString(fromCarols.resolve("Dockerfile"), "FROM built:1\nRUN true\n");
        DockerCli.Result from = f.as("dave", "build", "-q", fromCarols.toString());
        assertThat(from.exitCode()).isNotZero();
        assertThat(from.stderr()).contains("No such image: built:1");

        String box = f.ok("carol", "run", "-d", "busybox", "sh", "-c", "echo c > /c; sleep 300");
        f.ok("carol", "commit", box, "committed:1");
        missingImage(f.as("dave", "image", "inspect", "committed:1"));
        refusedName(f.as("dave", "commit", f.ok("dave", "create", "busybox", "true"), "committed:1"));
        f.ok("carol", "rm", "-f", box);

        String until = Long.toString(System.currentTimeMillis() / 1000 + 2);
        String carolsEvents = f.ok("carol", "events", "--since", "0", "--until", until, "--filter", "type=image",
                "--format", "{{.Action}} {{.Actor.Attributes.name}}");
        assertThat(carolsEvents).contains("tag committed:1", "tag built:1");
        String davesEvents = f.ok("dave", "events", "--since", "0", "--until", until, "--filter", "type=image",
                "--format", "{{.Action}} {{.Actor.Attributes.name}}");
        assertThat(davesEvents).doesNotContain("built:1").doesNotContain("committed:1");
        f.ok("carol", "rmi", "built:1", "committed:1");
    }

    /** Raw requests that would land on carol's name by another spelling (dockerd's: a tag parameter replaces the repository's). */
    @Test
    void anotherSpellingOfAnothersNameIsRefusedToo() throws Exception {
        String carols = uniqueImage("carol", "spelled:1");
        String[] attacks = {
            "POST /v1.41/images/busybox/tag?repo=spelled:9&tag=1 HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n",
            "POST /v1.41/images/busybox/tag?repo=docker.io/library/spelled&tag=1 HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n",
            "POST /v1.41/images/busybox/tag?repo=spelled:1:2 HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n",
            "POST /v1.41/images/create?fromImage=spelled:9&tag=1 HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n",
            "POST /v1.41/images/create?fromImage=busybox&tag=latest HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n",
        };
        int[] statuses = {403, 403, 403, 403, 0};
        for (int i = 0; i < attacks.length; i++) {
            String r = f.raw("dave", attacks[i]);
            if (statuses[i] != 0) {
                assertThat(RawHttp.status(r)).as(attacks[i] + "\n" + r).isIn(400, 403);
            } else {
                // a shared name pulled stays common: allowed (no registry is reachable here: the upstream's pull fails)
                assertThat(RawHttp.status(r)).as(r).isIn(200, 500);
                assertThat(r).contains("docker.io").doesNotContain("authorization denied").doesNotContain("one set of image names");
            }
        }
        assertThat(upstreamRoot("image", "inspect", "-f", "{{.Id}}", "spelled:1").stdout().trim()).isEqualTo(carols);
        assertThat(upstreamRoot("image", "inspect", "-f", "{{.Id}}", "busybox").stdout().trim())
                .isEqualTo(f.root("image", "inspect", "-f", "{{.Id}}", "busybox").stdout().trim());
        f.ok("carol", "rmi", "spelled:1");
    }

    @Test
    void anonymousVolumesAreTheirContainersCreators() throws Exception {
        String box = f.ok("alice", "run", "-d", "-v", "/data", "--mount", "type=volume,target=/more", "busybox", "sleep", "300");
        String[] volumes = f.ok("alice", "container", "inspect", "-f", "{{range .Mounts}}{{.Name}} {{end}}", box).trim().split(" ");
        assertThat(volumes).hasSize(2);
        assertThat(f.ok("alice", "volume", "ls", "-q").lines()).contains(volumes);
        assertThat(f.ok("bob", "volume", "ls", "-q").lines()).doesNotContain(volumes);
        for (String v : volumes) {
            assertThat(f.ok("alice", "volume", "inspect", "-f", "{{.Name}}", v)).isEqualTo(v);
            DockerCli.Result seen = f.as("bob", "volume", "inspect", v);
            assertThat(seen.exitCode()).isNotZero();
            assertThat(seen.stderr()).containsIgnoringCase("no such volume");
            assertThat(f.as("bob", "volume", "rm", v).exitCode()).isNotZero();
            DockerCli.Result mount = f.as("bob", "run", "--rm", "-v", v + ":/x", "busybox", "true");
            assertThat(mount.exitCode()).as(mount.toString()).isNotZero();
        }
        assertThat(f.ok("alice", "system", "df", "--format", "{{.Type}} {{.TotalCount}}").lines()).contains("Local Volumes 2");
        // kept when the container goes without -v; the creator's prune removes them
        f.ok("alice", "rm", "-f", box);
        assertThat(f.ok("alice", "volume", "ls", "-q").lines()).contains(volumes);
        assertThat(f.ok("alice", "volume", "prune", "-f")).contains(volumes);
        for (String v : volumes) {
            assertThat(upstreamRoot("volume", "inspect", v).exitCode()).as(v + " is gone upstream").isNotZero();
        }
    }

    @Test
    void theRecordOfNamesIsKeptOnDisk() throws Exception {
        uniqueImage("carol", "kept:1");
        Path record = tmp.resolve("data").resolve("upstream").resolve("images.json");
        long deadline = System.nanoTime() + 5_000_000_000L;
        while ((!Files.exists(record) || !Files.readString(record).contains("docker.io/library/kept:1")) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(Files.readString(record)).contains("\"docker.io/library/kept:1\":\"tls:carol\"");
        String raw = f.raw("dave", "GET /v1.45/images/kept:1/json HTTP/1.1\r\nHost: d\r\n\r\n");
        assertThat(RawHttp.status(raw)).isEqualTo(404);
        f.ok("carol", "rmi", "kept:1");
    }
}
