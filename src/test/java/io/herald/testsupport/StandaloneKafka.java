package io.herald.testsupport;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.springframework.util.FileSystemUtils;

/**
 * A single-node KRaft Kafka broker as a process of its own (kafka.Kafka from the test classpath), so
 * a test can kill it and start it again on the same port with the same data, as an outage would.
 * The in-process embedded broker cannot come back on its port; this one can.
 */
public final class StandaloneKafka implements AutoCloseable {

    private final Path home;
    private final int port;
    private Process broker;

    private StandaloneKafka(Path home, int port) {
        this.home = home;
        this.port = port;
    }

    /** Formats a new log directory and starts the broker on a free port. */
    public static StandaloneKafka start() throws IOException, InterruptedException {
        Path home = Files.createTempDirectory("herald-kafka-");
        int port = PackagedHerald.freePort();
        int controllerPort = PackagedHerald.freePort();
        Files.writeString(home.resolve("server.properties"), String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@localhost:" + controllerPort,
                "listeners=PLAINTEXT://localhost:" + port + ",CONTROLLER://localhost:" + controllerPort,
                "advertised.listeners=PLAINTEXT://localhost:" + port,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "log.dirs=" + home.resolve("logs").toAbsolutePath(),
                "num.partitions=3",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=3",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=true", ""));
        Process format = java(home, "format", "kafka.tools.StorageTool", "format", "-t", Uuid.randomUuid().toString(),
                "-c", home.resolve("server.properties").toString());
        if (!format.waitFor(2, TimeUnit.MINUTES) || format.exitValue() != 0) {
            throw new IllegalStateException("could not format the Kafka log directory; see " + home.resolve("format.log"));
        }
        StandaloneKafka kafka = new StandaloneKafka(home, port);
        kafka.startAgain();
        return kafka;
    }

    public String brokers() {
        return "localhost:" + port;
    }

    /** Kills the broker (kill -9: no controlled shutdown), as a crashed or unreachable broker would be. */
    public synchronized void kill() throws InterruptedException {
        if (broker != null) {
            broker.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            broker = null;
        }
    }

    /** Starts the broker on the same port with the same data, and waits until it answers. */
    public synchronized void startAgain() throws IOException {
        if (broker == null) {
            broker = java(home, "broker", "-Xmx384m", "kafka.Kafka", home.resolve("server.properties").toString());
        }
        Properties config = new Properties();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers());
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().until(() -> {
            try (AdminClient admin = AdminClient.create(config)) {
                return !admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty();
            }
        });
    }

    @Override
    public void close() throws InterruptedException {
        kill();
        FileSystemUtils.deleteRecursively(home.toFile());
    }

    private static Process java(Path home, String logName, String... args) throws IOException {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path")));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(home.resolve(logName + ".log").toFile())).start();
    }
}
