package io.dockgate.engine.image;

import io.dockgate.engine.EngineException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * An image reference as Docker parses it ({@code [domain/]path[:tag][@digest]}), normalised: the
 * default domain is docker.io and single-component names live under library/. {@link #familiar()}
 * gives back the short form users type and {@code docker images} shows.
 */
public record Reference(String domain, String path, String tag, String digest) {
    public static final String DEFAULT_DOMAIN = "docker.io";
    public static final String DEFAULT_TAG = "latest";
    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*");
    private static final Pattern DOMAIN = Pattern.compile(
            "(?:localhost|(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?");
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
    private static final Pattern DIGEST = Pattern.compile("[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}");
    private static final int MAX_NAME = 255;

    /** Parses and normalises; a missing tag stays null (see {@link #withDefaultTag()}). */
    public static Reference parse(String text) {
        if (text == null || text.isEmpty()) {
            throw invalid(text, null);
        }
        String rest = text;
        String digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            digest = rest.substring(at + 1);
            rest = rest.substring(0, at);
            if (!DIGEST.matcher(digest).matches()) {
                throw invalid(text, null);
            }
        }
        String tag = null;
        int colon = rest.lastIndexOf(':');
        if (colon > rest.lastIndexOf('/')) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
            if (!TAG.matcher(tag).matches()) {
                throw invalid(text, null);
            }
        }
        String domain;
        String path;
        int slash = rest.indexOf('/');
        String first = slash < 0 ? rest : rest.substring(0, slash);
        if (slash >= 0 && (first.contains(".") || first.contains(":") || first.equals("localhost")
                || !first.toLowerCase(Locale.ROOT).equals(first))) {
            domain = first;
            path = rest.substring(slash + 1);
            if (!DOMAIN.matcher(domain).matches()) {
                throw invalid(text, null);
            }
        } else {
            domain = DEFAULT_DOMAIN;
            path = rest;
        }
        if (domain.equals(DEFAULT_DOMAIN) && !path.contains("/")) {
            path = "library/" + path;
        }
        if (path.isEmpty()) {
            throw invalid(text, null);
        }
        for (String component : path.split("/", -1)) {
            if (!COMPONENT.matcher(component).matches()) {
                if (COMPONENT.matcher(component.toLowerCase(Locale.ROOT)).matches()) {
                    throw invalid(text, "repository name (" + path + ") must be lowercase");
                }
                throw invalid(text, null);
            }
        }
        if ((domain + "/" + path).length() > MAX_NAME) {
            throw invalid(text, "repository name must not be more than " + MAX_NAME + " characters");
        }
        return new Reference(domain, path, tag, digest);
    }

    private static EngineException invalid(String text, String detail) {
        return EngineException.invalid("invalid reference format" + (detail != null ? ": " + detail : ""));
    }

    /** True when the text could be an image ID or an ID prefix rather than a name. */
    public static boolean looksLikeId(String text) {
        String hex = text.startsWith("sha256:") ? text.substring(7) : text;
        return hex.length() >= 1 && hex.length() <= 64 && hex.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    }

    public Reference withDefaultTag() {
        return tag == null && digest == null ? new Reference(domain, path, DEFAULT_TAG, null) : this;
    }

    public Reference withTag(String newTag) {
        if (!TAG.matcher(newTag).matches()) {
            throw invalid(newTag, null);
        }
        return new Reference(domain, path, newTag, null);
    }

    /** The full repository name: docker.io/library/busybox. */
    public String name() {
        return domain + "/" + path;
    }

    /** The repository as Docker shows it: busybox, user/app, registry:5000/app. */
    public String familiarName() {
        if (domain.equals(DEFAULT_DOMAIN)) {
            return path.startsWith("library/") && path.indexOf('/', 8) < 0 ? path.substring(8) : path;
        }
        return name();
    }

    /** busybox:latest, registry:5000/app:1, app@sha256:... */
    public String familiar() {
        return familiarName() + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
    }

    /** The canonical key under which a tag is stored: docker.io/library/busybox:latest. */
    public String canonical() {
        return name() + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
    }

    @Override
    public String toString() {
        return familiar();
    }
}
