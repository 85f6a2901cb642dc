package io.dockgate.engine.volume;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.Map;

/**
 * A named volume of the local driver: a directory {@code <data-root>/volumes/<name>/_data}.
 * {@code populated} records that the first mount copied the image's content in (Docker's copy-up),
 * so it happens once.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Volume(String name, String driver, String mountpoint, String createdAt, Map<String, String> labels,
                     Map<String, String> options, boolean anonymous, boolean populated) {

    public Volume withPopulated() {
        return new Volume(name, driver, mountpoint, createdAt, labels, options, anonymous, true);
    }
}
