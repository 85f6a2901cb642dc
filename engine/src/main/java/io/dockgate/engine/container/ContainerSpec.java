package io.dockgate.engine.container;

import java.util.List;
import java.util.Map;

/**
 * What a container is created with: the subset of Docker's Config and HostConfig the engine implements.
 * The gateway translates Docker's JSON into this and refuses fields it cannot honour.
 */
public record ContainerSpec(
        String image,
        List<String> entrypoint,
        List<String> cmd,
        List<String> env,
        String workingDir,
        String user,
        String hostname,
        Map<String, String> labels,
        boolean tty,
        boolean openStdin,
        String stopSignal,
        Integer stopTimeout,
        Host host) {

    /** HostConfig: isolation, resources, restart and cleanup. */
    public record Host(
            String networkMode,
            boolean privileged,
            boolean readonlyRootfs,
            List<String> capAdd,
            List<String> capDrop,
            Map<String, String> tmpfs,
            long memory,
            long memorySwap,
            long cpuShares,
            long cpuQuota,
            long cpuPeriod,
            long pidsLimit,
            String cpusetCpus,
            boolean autoRemove,
            RestartPolicy restartPolicy) {
    }

    /** Docker's restart policy: no, on-failure[:N], always, unless-stopped. */
    public record RestartPolicy(String name, int maximumRetryCount) {
        public static final RestartPolicy NO = new RestartPolicy("no", 0);
    }
}
