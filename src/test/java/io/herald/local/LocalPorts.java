package io.herald.local;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The fixed ports of the local run, checked before anything starts. A port already taken (a second local run, a mail
 * catcher on 3025, another service on 8080) used to end in a mail server's stack trace advising a longer startup
 * timeout, with PostgreSQL and Kafka left running and the command hanging; now the run stops at once, naming the port,
 * what it was for and the setting that moves it.
 */
final class LocalPorts {

    /** One port of the local run: what listens there and the system property that moves it. */
    record Port(String what, String setting, int number, String bindAddress) {
    }

    private LocalPorts() {
    }

    /** The sentence to print when one of the ports is taken; empty when all are free (port 0: any free one, not checked). */
    static Optional<String> taken(List<Port> ports) {
        List<Port> taken = new ArrayList<>();
        for (Port port : ports) {
            if (port.number() > 0 && !free(port)) {
                taken.add(port);
            }
        }
        if (taken.isEmpty()) {
            return Optional.empty();
        }
        StringBuilder text = new StringBuilder("The local run cannot start: ");
        List<String> moves = new ArrayList<>();
        for (int i = 0; i < taken.size(); i++) {
            Port port = taken.get(i);
            text.append(i == 0 ? "" : ", ").append("port ").append(port.number()).append(" (").append(port.what()).append(')');
            moves.add("-D" + port.setting() + "=<a free port>");
        }
        text.append(taken.size() == 1 ? " is" : " are").append(" already in use, perhaps by another local run of Herald.")
                .append(" Stop that, or move this run's ").append(taken.size() == 1 ? "port" : "ports").append(":\n")
                .append("    mvn spring-boot:test-run -Dspring-boot.run.jvmArguments=\"").append(String.join(" ", moves)).append('"');
        return Optional.of(text.toString());
    }

    private static boolean free(Port port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);   // as the servers bind: a port in TIME_WAIT after a stopped run is free
            socket.bind(new InetSocketAddress(port.bindAddress(), port.number()));
            return true;
        } catch (IOException taken) {
            return false;
        }
    }
}
