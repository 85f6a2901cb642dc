package io.dockgate.engine.oci;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The default seccomp filter in OCI form: refuse (EPERM) every syscall but an allow list
 * ({@code seccomp-allow.txt}), with the capability-gated groups added when the container holds the
 * capability, clone restricted to no namespace flags without CAP_SYS_ADMIN, and clone3 answering ENOSYS.
 */
public final class SeccompProfile {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long CLONE_NAMESPACE_FLAGS = 0x7E020000L;
    private static final Map<String, List<String>> SECTIONS = load();

    private SeccompProfile() {
    }

    private static Map<String, List<String>> load() {
        Map<String, List<String>> sections = new LinkedHashMap<>();
        try (InputStream in = SeccompProfile.class.getResourceAsStream("/io/dockgate/engine/oci/seccomp-allow.txt")) {
            String current = null;
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                line = line.strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                if (line.startsWith("[")) {
                    current = line.substring(1, line.length() - 1);
                    sections.put(current, new ArrayList<>());
                } else {
                    sections.get(current).addAll(List.of(line.split("\\s+")));
                }
            }
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("the seccomp allow list is missing from the build", e);
        }
        return sections;
    }

    /** The filter for a container with these capabilities (names without CAP_ are accepted). */
    public static ObjectNode forCapabilities(Set<String> capabilities) {
        Set<String> allowed = new LinkedHashSet<>(SECTIONS.get("always"));
        SECTIONS.forEach((section, names) -> {
            if (section.startsWith("CAP_") && capabilities.contains(section)) {
                allowed.addAll(names);
            }
        });
        ObjectNode seccomp = JSON.createObjectNode();
        seccomp.put("defaultAction", "SCMP_ACT_ERRNO");
        seccomp.put("defaultErrnoRet", 1);
        seccomp.putArray("architectures").add("SCMP_ARCH_X86_64").add("SCMP_ARCH_X86").add("SCMP_ARCH_X32");
        ArrayNode syscalls = seccomp.putArray("syscalls");
        ObjectNode allow = syscalls.addObject();
        ArrayNode names = allow.putArray("names");
        allowed.forEach(names::add);
        allow.put("action", "SCMP_ACT_ALLOW");
        if (capabilities.contains("CAP_SYS_ADMIN")) {
            syscalls.addObject().put("action", "SCMP_ACT_ALLOW").putArray("names").add("clone");
        } else {
            ObjectNode clone = syscalls.addObject();
            clone.putArray("names").add("clone");
            clone.put("action", "SCMP_ACT_ALLOW");
            ObjectNode arg = clone.putArray("args").addObject();
            arg.put("index", 0);
            arg.put("value", CLONE_NAMESPACE_FLAGS);
            arg.put("valueTwo", 0);
            arg.put("op", "SCMP_CMP_MASKED_EQ");
            ObjectNode clone3 = syscalls.addObject();
            clone3.putArray("names").add("clone3");
            clone3.put("action", "SCMP_ACT_ERRNO");
            clone3.put("errnoRet", 38);
        }
        return seccomp;
    }
}
