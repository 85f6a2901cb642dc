package io.dockgate.engine.image;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Reads {@code docker save} archives: extracts the archive's members safely into a private directory
 * (regular files, directories and the symlinks legacy archives use between duplicate layers, never
 * leaving the directory) and finds the images in {@code manifest.json}, or in an OCI {@code index.json}
 * when there is no manifest.json.
 */
final class ArchiveReader {
    /** One image in an archive: paths of its config and layer blobs, and its tags. */
    record Entry(String config, List<String> layers, List<String> repoTags) {
    }

    /** An archive that cannot be loaded, with the reason. */
    static final class InvalidArchiveException extends IOException {
        InvalidArchiveException(String message) {
            super(message);
        }
    }

    private ArchiveReader() {
    }

    static void extract(InputStream raw, Path work, long maxBytes) throws IOException {
        Files.createDirectories(work);
        InputStream in = LayerUnpacker.decompress(raw);
        TarArchiveInputStream tar = new TarArchiveInputStream(in, StandardCharsets.UTF_8.name());
        long total = 0;
        boolean any = false;
        TarArchiveEntry entry;
        while ((entry = next(tar)) != null) {
            any = true;
            String name;
            try {
                name = LayerUnpacker.clean(entry.getName());
            } catch (LayerUnpacker.InvalidLayerException e) {
                throw new InvalidArchiveException("invalid archive: " + e.getMessage());
            }
            if (name.isEmpty()) {
                continue;
            }
            Path path = work.resolve(name);
            Files.createDirectories(path.getParent());
            if (!path.getParent().toRealPath().startsWith(work.toRealPath())) {
                throw new InvalidArchiveException("invalid archive: " + name + " leaves the archive");
            }
            if (entry.isDirectory()) {
                Files.createDirectories(path);
            } else if (entry.isSymbolicLink()) {
                Files.createSymbolicLink(path, Path.of(entry.getLinkName()));
            } else if (entry.isFile()) {
                total += entry.getSize();
                if (total > maxBytes) {
                    throw new InvalidArchiveException("invalid archive: it exceeds the limit of " + maxBytes + " bytes");
                }
                try (OutputStream out = Files.newOutputStream(path, StandardOpenOption.CREATE_NEW, LinkOption.NOFOLLOW_LINKS)) {
                    long copied = tar.transferTo(out);
                    if (copied != entry.getSize()) {
                        throw new InvalidArchiveException("invalid archive: truncated: " + name + " has " + copied + " of " + entry.getSize() + " bytes");
                    }
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    throw new InvalidArchiveException("invalid archive: duplicate member " + name);
                }
            }
        }
        if (!any) {
            throw new InvalidArchiveException("invalid archive: empty or not a tar archive");
        }
    }

    private static TarArchiveEntry next(TarArchiveInputStream tar) throws IOException {
        try {
            return tar.getNextEntry();
        } catch (IllegalArgumentException e) {
            throw new InvalidArchiveException("invalid archive: corrupt tar header");
        } catch (java.io.EOFException e) {
            throw new InvalidArchiveException("invalid archive: truncated");
        } catch (IOException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("Truncated") || m.contains("Corrupt") || m.contains("EOF") || m.contains("header") || m.contains("parse")) {
                throw new InvalidArchiveException("invalid archive: truncated or corrupt tar (" + m + ")");
            }
            throw e;
        }
    }

    /** Resolves a member named by the manifest; it must exist inside the archive. */
    static Path member(Path work, String name) throws IOException {
        String clean;
        try {
            clean = LayerUnpacker.clean(name);
        } catch (LayerUnpacker.InvalidLayerException e) {
            throw new InvalidArchiveException("invalid archive: manifest names an unsafe path " + name);
        }
        Path path = work.resolve(clean);
        if (clean.isEmpty() || !Files.isRegularFile(path)) {
            throw new InvalidArchiveException("invalid archive: the manifest names a missing file " + name);
        }
        if (!path.toRealPath().startsWith(work.toRealPath())) {
            throw new InvalidArchiveException("invalid archive: " + name + " points outside the archive");
        }
        return path;
    }

    static List<Entry> manifest(Path work) throws IOException {
        Path manifest = work.resolve("manifest.json");
        if (Files.isRegularFile(manifest)) {
            JsonNode list = readJson(manifest, "manifest.json");
            if (!list.isArray() || list.isEmpty()) {
                throw new InvalidArchiveException("invalid archive: manifest.json lists no image");
            }
            List<Entry> entries = new ArrayList<>();
            for (JsonNode item : list) {
                if (!item.path("Config").isTextual() || !item.path("Layers").isArray()) {
                    throw new InvalidArchiveException("invalid archive: manifest.json entry without Config or Layers");
                }
                List<String> layers = new ArrayList<>();
                item.get("Layers").forEach(l -> layers.add(l.asText()));
                List<String> tags = new ArrayList<>();
                item.path("RepoTags").forEach(t -> tags.add(t.asText()));
                entries.add(new Entry(item.get("Config").asText(), layers, tags));
            }
            return entries;
        }
        Path index = work.resolve("index.json");
        if (Files.isRegularFile(index)) {
            List<Entry> entries = new ArrayList<>();
            readIndex(work, readJson(index, "index.json"), entries, 0);
            if (entries.isEmpty()) {
                throw new InvalidArchiveException("invalid archive: index.json lists no linux/amd64 image");
            }
            return entries;
        }
        throw new InvalidArchiveException("invalid archive: neither manifest.json nor index.json found");
    }

    private static void readIndex(Path work, JsonNode index, List<Entry> entries, int depth) throws IOException {
        if (depth > 4) {
            throw new InvalidArchiveException("invalid archive: index nesting too deep");
        }
        for (JsonNode m : index.path("manifests")) {
            String media = m.path("mediaType").asText();
            JsonNode platform = m.path("platform");
            if (!platform.isMissingNode() && !(platform.path("os").asText("linux").equals("linux")
                    && platform.path("architecture").asText("amd64").equals("amd64"))) {
                continue;
            }
            Path blob = member(work, "blobs/sha256/" + Digest.parse(m.path("digest").asText()).hex());
            JsonNode body = readJson(blob, m.path("digest").asText());
            if (media.endsWith("image.index.v1+json") || media.endsWith("manifest.list.v2+json")) {
                readIndex(work, body, entries, depth + 1);
                continue;
            }
            String config = "blobs/sha256/" + Digest.parse(body.path("config").path("digest").asText()).hex();
            List<String> layers = new ArrayList<>();
            for (JsonNode l : body.path("layers")) {
                layers.add("blobs/sha256/" + Digest.parse(l.path("digest").asText()).hex());
            }
            List<String> tags = new ArrayList<>();
            String name = m.path("annotations").path("io.containerd.image.name").asText("");
            if (!name.isEmpty()) {
                tags.add(name);
            }
            entries.add(new Entry(config, layers, tags));
        }
    }

    private static JsonNode readJson(Path file, String what) throws IOException {
        try {
            return ImageStore.JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new InvalidArchiveException("invalid archive: " + what + " is not valid JSON");
        }
    }
}
