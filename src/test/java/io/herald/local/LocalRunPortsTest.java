package io.herald.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A newcomer who starts the local run while another holds one of its ports (a second {@code mvn spring-boot:test-run},
 * a mail catcher on 3025) is told which port, what it is for and how to move it, and the command ends. It used to print
 * GreenMail's "try to set server startup timeout > 2000" with a stack trace and hang for ever, PostgreSQL and Kafka
 * running behind it.
 */
class LocalRunPortsTest {

    @TempDir
    Path folder;

    @Test
    void aTakenSmtpPortEndsTheRunNamingThePortAndTheSettingThatMovesIt() throws Exception {
        try (ServerSocket mailCatcher = new ServerSocket()) {
            mailCatcher.bind(new InetSocketAddress("127.0.0.1", 0));
            int taken = mailCatcher.getLocalPort();
            Path log = folder.resolve("local-run.log");
            Process run = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"),
                    "-Dherald.http.port=" + freePort(), "-Dherald.local.smtp-port=" + taken,
                    "-Dherald.local.mailbox-port=" + freePort(), "-Dherald.local.sandbox-port=" + freePort(),
                    "-Dherald.local.crm-port=" + freePort(), LocalHerald.class.getName())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                assertThat(run.waitFor(90, TimeUnit.SECONDS)).as("the local run ends instead of hanging").isTrue();
                assertThat(run.exitValue()).isEqualTo(1);
                assertThat(Files.readString(log))
                        .contains("The local run cannot start: port " + taken + " (the local SMTP server) is already in use")
                        .contains("mvn spring-boot:test-run -Dspring-boot.run.jvmArguments=\"-Dherald.local.smtp-port=<a free port>\"")
                        .doesNotContain("server startup timeout");
            } finally {
                // A run that hung: stopped as Ctrl+C would, so its shutdown hook stops the embedded PostgreSQL it started
                // (pg_ctl detaches it: it would not be among the run's descendants).
                run.destroy();
                if (!run.waitFor(30, TimeUnit.SECONDS)) {
                    run.destroyForcibly();
                }
            }
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
