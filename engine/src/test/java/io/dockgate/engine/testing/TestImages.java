package io.dockgate.engine.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test images made from Debian's busybox-static: a rootfs directory with /bin/busybox and a link per
 * applet, /etc/passwd and /etc/group, tarred with GNU tar. A missing busybox fails the test with what to
 * install.
 */
public final class TestImages {
    public static final Path BUSYBOX = Path.of("/bin/busybox");

    private TestImages() {
    }

    /** Builds the rootfs directory. */
    public static Path busyboxRootfs(Path dir) throws IOException, InterruptedException {
        if (!Files.isExecutable(BUSYBOX)) {
            throw new AssertionError("/bin/busybox is missing: apt-get install busybox-static (the setup script does this)");
        }
        Path root = Files.createDirectories(dir);
        Path bin = Files.createDirectories(root.resolve("bin"));
        Files.copy(BUSYBOX, bin.resolve("busybox"));
        Process list = new ProcessBuilder(BUSYBOX.toString(), "--list").start();
        List<String> applets = new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        list.waitFor(10, TimeUnit.SECONDS);
        for (String applet : applets) {
            if (!applet.equals("busybox")) {
                Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
            }
        }
        Path etc = Files.createDirectories(root.resolve("etc"));
        Files.writeString(etc.resolve("passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
                + "app:x:1000:1000:app:/home/app:/bin/sh\n");
        Files.writeString(etc.resolve("group"), "root:x:0:\nnogroup:x:65534:\napp:x:1000:\n");
        Path tmp = Files.createDirectories(root.resolve("tmp"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.createDirectories(root.resolve("root"));
        return root;
    }

    /** tar of a directory's content (GNU tar, numeric owners, names as "./x"), optionally gzip or zstd. */
    public static Path tar(Path dir, Path out, String... extra) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("tar", "--numeric-owner", "-C", dir.toString()));
        command.addAll(List.of(extra));
        command.addAll(List.of("-cf", out.toString(), "."));
        run(command);
        return out;
    }

    /** A busybox rootfs tar in dir/busybox.tar. */
    public static Path busyboxTar(Path dir) throws IOException, InterruptedException {
        Path root = busyboxRootfs(dir.resolve("busybox-rootfs"));
        return tar(root, dir.resolve("busybox.tar"));
    }

    public static void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", command) + " failed: " + out);
        }
    }
}
