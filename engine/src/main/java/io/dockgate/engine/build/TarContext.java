package io.dockgate.engine.build;

import io.dockgate.engine.EngineException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * A build context as it arrived: the tar spooled to one file as it is read, with an index of its entries
 * (each file's SHA-256 computed on the way), so that a build whose steps are all cached never unpacks it.
 * Names are resolved inside the context (symbolic links followed only within it, {@code ..} stopping at
 * its root); a step that needs the files (a COPY that misses the cache) unpacks the whole context once,
 * by the layer unpacker's rules, into a directory beside the spool.
 */
public final class TarContext {
    /** One entry: 'f' file, 'd' directory, 'l' symbolic link, 'h' hard link (to {@code link}). */
    record Entry(String name, char type, int mode, long offset, long size, String link, byte[] sha256) {
    }

    private final Path dir;
    private final Path spool;
    private final TreeMap<String, Entry> entries;
    private Path extracted;

    private TarContext(Path dir, Path spool, TreeMap<String, Entry> entries) {
        this.dir = dir;
        this.spool = spool;
        this.entries = entries;
    }

    /** Reads the (decompressed) tar into dir/context.tar, indexing it; at most maxBytes. */
    static TarContext spool(InputStream tar, Path dir, long maxBytes) throws IOException {
        Path spool = dir.resolve("context.tar");
        TreeMap<String, Entry> entries = new TreeMap<>();
        try (OutputStream file = new java.io.BufferedOutputStream(Files.newOutputStream(spool), 1 << 16)) {
            Counting counting = new Counting(tar, file, maxBytes);
            TarArchiveInputStream in = new TarArchiveInputStream(counting, 512, 512, StandardCharsets.UTF_8.name(), false);
            byte[] buffer = new byte[1 << 16];
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                String name = clean(e.getName());
                if (name.isEmpty()) {
                    continue;
                }
                if (entries.containsKey(name)) {
                    throw EngineException.invalid("invalid build context: duplicate entry " + name);
                }
                String base = name.substring(name.lastIndexOf('/') + 1);
                if (base.startsWith(".wh.")) {
                    throw EngineException.invalid("invalid build context: " + name + " (a name starting with .wh.)");
                }
                int perm = e.getMode() & 07777;
                if (e.isDirectory()) {
                    entries.put(name, new Entry(name, 'd', 0040000 | perm, 0, 0, null, null));
                } else if (e.isSymbolicLink()) {
                    entries.put(name, new Entry(name, 'l', 0120777, 0, 0, e.getLinkName(), null));
                } else if (e.isLink()) {
                    String target = clean(e.getLinkName());
                    Entry t = entries.get(target);
                    if (t == null || t.type() != 'f') {
                        throw EngineException.invalid("invalid build context: hard link " + name + " to " + e.getLinkName()
                                + ", not an earlier file");
                    }
                    entries.put(name, new Entry(name, 'h', t.mode(), t.offset(), t.size(), target, t.sha256()));
                } else if (e.isFile()) {
                    long offset = counting.count(); // the content starts where the header ended
                    MessageDigest d = io.dockgate.engine.image.Digest.sha256();
                    int n;
                    while ((n = in.read(buffer)) > 0) {
                        d.update(buffer, 0, n);
                    }
                    entries.put(name, new Entry(name, 'f', 0100000 | perm, offset, e.getSize(), null, d.digest()));
                } else {
                    throw EngineException.invalid("invalid build context: " + name + " is a device file or FIFO, which builds do not copy");
                }
            }
            counting.drain();
        }
        return new TarContext(dir, spool, entries);
    }

    /** Counts (and bounds) what the tar reader consumes, writing it to the spool. */
    private static final class Counting extends io.dockgate.engine.fs.ObservedInput {
        private final OutputStream copy;
        private final long max;

        Counting(InputStream in, OutputStream copy, long max) {
            super(in);
            this.copy = copy;
            this.max = max;
        }

        @Override
        protected void seen(byte[] b, int off, int n) throws IOException {
            if (count() > max) {
                throw EngineException.invalid("invalid build context: larger than the daemon's limit of " + max
                        + " uncompressed bytes (--max-build-context)");
            }
            copy.write(b, off, n);
        }
    }


    /** A tar entry's name as a relative path ("a/b"), "" for the root; names climbing out are refused. */
    static String clean(String raw) {
        List<String> parts = new ArrayList<>();
        for (String p : raw.split("/")) {
            if (p.isEmpty() || p.equals(".")) {
                continue;
            }
            if (p.equals("..")) {
                throw EngineException.invalid("invalid build context: entry " + raw + " climbs out of the context");
            }
            parts.add(p);
        }
        return String.join("/", parts);
    }

    /** The context as received, decompressed: one tar file (what upstream mode forwards once judged). */
    public Path tarFile() {
        return spool;
    }

    /** Whether the name is a directory: an entry of its own, or the parent of one (tars may leave them out). */
    boolean isDirectory(String name) {
        if (name.isEmpty()) {
            return true;
        }
        Entry e = entries.get(name);
        if (e != null) {
            return e.type() == 'd';
        }
        String prefix = name + "/";
        String next = entries.ceilingKey(prefix);
        return next != null && next.startsWith(prefix);
    }

    boolean exists(String name) {
        return name.isEmpty() || entries.containsKey(name) || isDirectory(name);
    }

    /**
     * The name a path inside the context stands for, symbolic links followed within the context (an
     * absolute target starts again at its root, {@code ..} stops at it: the rules of
     * {@link io.dockgate.engine.oci.RootfsPaths}); the name may not exist.
     */
    String resolve(String path) {
        try {
            return io.dockgate.engine.oci.RootfsPaths.resolveNames(path, name -> {
                Entry e = entries.get(name);
                return e != null && e.type() == 'l' ? e.link() : null;
            });
        } catch (IOException e) {
            throw EngineException.invalid(e.getMessage());
        }
    }

    /** Every name (entries and the directories they imply), for wildcards. */
    List<String> names() {
        java.util.TreeSet<String> all = new java.util.TreeSet<>(entries.keySet());
        for (String n : entries.keySet()) {
            for (int i = n.indexOf('/'); i > 0; i = n.indexOf('/', i + 1)) {
                all.add(n.substring(0, i));
            }
        }
        return List.copyOf(all);
    }

    /** A regular file's content (the Dockerfile), at most max bytes; null when it is not a file. */
    byte[] read(String name, long max) throws IOException {
        Entry e = entries.get(name);
        if (e == null || e.type() != 'f' && e.type() != 'h') {
            return null;
        }
        if (e.size() > max) {
            throw EngineException.invalid(name + " is larger than " + max + " bytes");
        }
        try (FileChannel ch = FileChannel.open(spool, StandardOpenOption.READ)) {
            ch.position(e.offset());
            return Channels.newInputStream(ch).readNBytes((int) e.size());
        }
    }

    /**
     * What a copy's cache key depends on: for the name and everything below it, in name order, each
     * relative name, type and mode, link target or content digest.
     */
    void digest(String name, String label, MessageDigest d) {
        Map<String, Entry> below = name.isEmpty() ? entries : entries.subMap(name, true, name + "/\uffff", true);
        for (Entry e : below.values()) {
            if (!e.name().equals(name) && !e.name().startsWith(name + "/") && !name.isEmpty()) {
                continue;
            }
            String rel = name.isEmpty() ? e.name() : e.name().substring(name.length());
            d.update((label + rel + "\0" + e.type() + e.mode() + "\0").getBytes(StandardCharsets.UTF_8));
            if (e.link() != null && e.type() == 'l') {
                d.update(e.link().getBytes(StandardCharsets.UTF_8));
            } else if (e.sha256() != null) {
                d.update(e.sha256());
            }
            d.update((byte) 0);
        }
        if (!entries.containsKey(name)) {
            d.update((label + "\0d\0").getBytes(StandardCharsets.UTF_8)); // an implied directory
        }
    }

    /** The context unpacked (once): for the steps that copy from it. */
    synchronized Path extracted() throws IOException {
        if (extracted == null) {
            Path tree = dir.resolve("tree");
            try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(spool), 1 << 16)) {
                io.dockgate.engine.image.LayerUnpacker.unpackTree(in, tree, Long.MAX_VALUE);
            } catch (io.dockgate.engine.image.LayerUnpacker.InvalidLayerException e) {
                throw EngineException.invalid("invalid build context: " + e.getMessage());
            }
            extracted = tree;
        }
        return extracted;
    }
}
