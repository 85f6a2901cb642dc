package io.dockgate.engine.build;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dockgate.engine.image.Image;
import java.util.LinkedHashMap;
import java.util.Map;

/** One stage of a build: its name, its image so far (null: scratch), its configuration and ARGs, where its base images come from. */
final class Stage {
    final String name;
    final int index;
    final Builder.BaseImages bases;
    Image image;
    ObjectNode config;
    final Map<String, String> args = new LinkedHashMap<>();
    boolean cmdSet;

    Stage(String name, int index, Builder.BaseImages bases) {
        this.name = name;
        this.index = index;
        this.bases = bases;
    }
}
