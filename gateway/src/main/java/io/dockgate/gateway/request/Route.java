package io.dockgate.gateway.request;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where an operation is served: methods and a path pattern. Pattern segments are literals,
 * {@code {param}} (one segment, no encoded slash) or one {@code {param...}} that takes one or more
 * segments and may contain {@code /} (image references: the docker CLI sends them raw, docker-java as
 * one %2F-escaped segment). What the operation is lives in its descriptor, not here.
 */
public record Route(Set<String> methods, String pattern, List<String> parts) {

    public static Route of(String method, String pattern) {
        return of(Set.of(method), pattern);
    }

    public static Route of(Set<String> methods, String pattern) {
        List<String> parts = new ArrayList<>();
        for (String p : pattern.substring(1).split("/")) {
            parts.add(p);
        }
        for (int i = 0; i < parts.size(); i++) {
            if (parts.get(i).endsWith("...}") && parts.subList(i + 1, parts.size()).stream().anyMatch(p -> p.endsWith("...}"))) {
                throw new IllegalArgumentException("at most one rest parameter: " + pattern);
            }
        }
        return new Route(Set.copyOf(methods), pattern, List.copyOf(parts));
    }

    /** Matches decoded segments; fills params and returns true on a match. */
    public boolean matches(List<CanonicalPath.Segment> segments, Map<String, String> params) {
        int n = parts.size();
        int restIndex = -1;
        for (int i = 0; i < n; i++) {
            if (parts.get(i).endsWith("...}")) {
                restIndex = i;
            }
        }
        if (restIndex < 0) {
            if (segments.size() != n) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                if (!matchOne(parts.get(i), segments.get(i), params)) {
                    return false;
                }
            }
            return true;
        }
        int suffix = n - restIndex - 1;
        if (segments.size() < n) {
            return false;
        }
        for (int i = 0; i < restIndex; i++) {
            if (!matchOne(parts.get(i), segments.get(i), params)) {
                return false;
            }
        }
        for (int i = 0; i < suffix; i++) {
            if (!matchOne(parts.get(n - 1 - i), segments.get(segments.size() - 1 - i), params)) {
                return false;
            }
        }
        params.put(name(parts.get(restIndex)), join(segments.subList(restIndex, segments.size() - suffix)));
        return true;
    }

    private static boolean matchOne(String part, CanonicalPath.Segment segment, Map<String, String> params) {
        if (part.startsWith("{") && part.endsWith("}")) {
            if (segment.encodedSlash()) {
                return false;
            }
            params.put(name(part), segment.value());
            return true;
        }
        return !segment.encodedSlash() && part.equals(segment.value());
    }

    private static String name(String part) {
        String inner = part.substring(1, part.length() - 1);
        return inner.endsWith("...") ? inner.substring(0, inner.length() - 3) : inner;
    }

    private static String join(List<CanonicalPath.Segment> segments) {
        StringBuilder sb = new StringBuilder();
        for (CanonicalPath.Segment s : segments) {
            if (sb.length() > 0) {
                sb.append('/');
            }
            sb.append(s.value());
        }
        return sb.toString();
    }
}
