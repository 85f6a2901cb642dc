package io.dockgate.gateway.request;

import io.dockgate.engine.EngineException;

/** A Docker Engine API version ("1.50"), comparable; the range dockgate serves. */
public record ApiVersion(int major, int minor) implements Comparable<ApiVersion> {
    public static final ApiVersion MIN = new ApiVersion(1, 24);
    public static final ApiVersion MAX = new ApiVersion(1, 50);

    /** Parses "1.50"; anything else is an invalid argument. */
    public static ApiVersion parse(String text) {
        int dot = text.indexOf('.');
        if (dot <= 0 || dot == text.length() - 1 || text.length() > 9) {
            throw EngineException.invalid("invalid API version \"" + text + "\"");
        }
        try {
            String majorText = text.substring(0, dot);
            String minorText = text.substring(dot + 1);
            if (!majorText.chars().allMatch(Character::isDigit) || !minorText.chars().allMatch(Character::isDigit)) {
                throw EngineException.invalid("invalid API version \"" + text + "\"");
            }
            return new ApiVersion(Integer.parseInt(majorText), Integer.parseInt(minorText));
        } catch (NumberFormatException e) {
            throw EngineException.invalid("invalid API version \"" + text + "\"");
        }
    }

    /** Refuses a version outside [MIN, MAX] with dockerd's wording. */
    public ApiVersion requireSupported() {
        if (compareTo(MIN) < 0) {
            throw EngineException.invalid("client version " + this + " is too old. Minimum supported API version is "
                    + MIN + ", please upgrade your client to a newer version");
        }
        if (compareTo(MAX) > 0) {
            throw EngineException.invalid("client version " + this + " is too new. Maximum supported API version is " + MAX);
        }
        return this;
    }

    public boolean atLeast(int maj, int min) {
        return compareTo(new ApiVersion(maj, min)) >= 0;
    }

    @Override
    public int compareTo(ApiVersion o) {
        return major != o.major ? Integer.compare(major, o.major) : Integer.compare(minor, o.minor);
    }

    @Override
    public String toString() {
        return major + "." + minor;
    }
}
