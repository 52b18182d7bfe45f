package io.herald.web;

/**
 * This Herald instance's name, for what an operator reads: several instances share one database and one load balancer,
 * and what lives in an instance's memory (a console sign-in, a circuit breaker, a route stopped in Hawtio) is that
 * instance's alone. HOSTNAME (a Kubernetes pod's name, a container's id), else the host's name.
 */
public final class InstanceName {

    public static final String NAME = name();

    private InstanceName() {
    }

    private static String name() {
        String host = System.getenv("HOSTNAME");
        if (host != null && !host.isBlank()) {
            return host.strip();
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }
}
