package io.dockgate.gateway.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JSON line per request on the {@code dockgate.access} logger, naming the principal. JSON encoding
 * also neutralises CR/LF and other control characters a client puts into a path.
 */
final class AccessLog {
    private static final Logger LOG = LoggerFactory.getLogger("dockgate.access");

    private AccessLog() {
    }

    static void write(Map<String, Object> fields) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        try {
            LOG.info(Responses.MAPPER.writeValueAsString(fields));
        } catch (JsonProcessingException e) {
            LOG.warn("unloggable request {}", fields.get("id"));
        }
    }
}
