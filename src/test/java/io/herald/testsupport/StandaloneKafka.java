package io.herald.testsupport;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
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
    /** What a client needs to connect (security.protocol, sasl.*, ssl.*); empty for the plaintext broker. */
    private final Properties clientSecurity;
    private Process broker;

    private StandaloneKafka(Path home, int port, Properties clientSecurity) {
        this.home = home;
        this.port = port;
        this.clientSecurity = clientSecurity;
    }

    /** Formats a new log directory and starts the broker on a free port. */
    public static StandaloneKafka start() throws IOException, InterruptedException {
        Path home = Files.createTempDirectory("herald-kafka-");
        int port = PackagedHerald.freePort();
        return start(home, port, "PLAINTEXT", List.of(), new Properties());
    }

    /**
     * A broker that, as managed Kafka services do, takes only TLS connections with a login (SASL_SSL, mechanism PLAIN): its
     * certificate, for localhost, is made here and signs itself; {@link #certificate()} is the file a client trusts.
     */
    public static StandaloneKafka startWithLogin(String username, String password) throws IOException, InterruptedException {
        Path home = Files.createTempDirectory("herald-kafka-");
        int port = PackagedHerald.freePort();
        Path keystore = home.resolve("broker.p12");
        keytool(home, "-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2", "-dname", "CN=localhost",
                "-ext", "SAN=dns:localhost", "-keystore", keystore.toString(), "-storetype", "PKCS12", "-storepass", "broker-store",
                "-keypass", "broker-store");
        keytool(home, "-exportcert", "-rfc", "-alias", "broker", "-keystore", keystore.toString(), "-storepass", "broker-store",
                "-file", home.resolve("broker-certificate.pem").toString());
        String jaas = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"broker\" password=\"broker-secret\""
                + " user_broker=\"broker-secret\" user_" + username + "=\"" + jaasQuoted(password) + "\";";
        Properties client = new Properties();
        client.put("security.protocol", "SASL_SSL");
        client.put("sasl.mechanism", "PLAIN");
        client.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + username
                + "\" password=\"" + jaasQuoted(password) + "\";");
        client.put("ssl.truststore.location", home.resolve("broker-certificate.pem").toString());
        client.put("ssl.truststore.type", "PEM");
        return start(home, port, "SASL_SSL", List.of(
                "sasl.enabled.mechanisms=PLAIN",
                "sasl.mechanism.inter.broker.protocol=PLAIN",
                "listener.name.sasl_ssl.plain.sasl.jaas.config=" + jaas.replace("\\", "\\\\"),   // a properties file reads \\ as \
                "ssl.keystore.location=" + keystore,
                "ssl.keystore.type=PKCS12",
                "ssl.keystore.password=broker-store",
                "ssl.key.password=broker-store",
                "ssl.truststore.location=" + home.resolve("broker-certificate.pem"),
                "ssl.truststore.type=PEM"), client);
    }

    /** The broker's certificate (PEM), for a client's truststore; only for {@link #startWithLogin}. */
    public Path certificate() {
        return home.resolve("broker-certificate.pem");
    }

    private static StandaloneKafka start(Path home, int port, String protocol, List<String> security, Properties clientSecurity)
            throws IOException, InterruptedException {
        int controllerPort = PackagedHerald.freePort();
        List<String> settings = new java.util.ArrayList<>(List.of(
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@localhost:" + controllerPort,
                "listeners=" + protocol + "://localhost:" + port + ",CONTROLLER://localhost:" + controllerPort,
                "advertised.listeners=" + protocol + "://localhost:" + port,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=" + protocol,
                "listener.security.protocol.map=" + protocol + ":" + protocol + ",CONTROLLER:PLAINTEXT"));
        settings.addAll(security);
        Files.writeString(home.resolve("server.properties"), String.join("\n", settings) + "\n" + String.join("\n",
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
        StandaloneKafka kafka = new StandaloneKafka(home, port, clientSecurity);
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
        config.putAll(clientSecurity);
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers());
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000);
        // First the broker's port, probed every 200 ms: an admin client asked while nothing listens spends its whole 5 s
        // timeout reconnecting, so the broker, up in 20-35 s on a busy machine, was found up to 6 s late at each start.
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200)).until(this::listening);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().until(() -> {
            try (AdminClient admin = AdminClient.create(config)) {
                return !admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty();
            }
        });
    }

    private boolean listening() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("localhost", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        kill();
        FileSystemUtils.deleteRecursively(home.toFile());
    }

    /** A value inside a JAAS option's double quotes, its quotes and backslashes escaped. */
    private static String jaasQuoted(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static void keytool(Path home, String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(List.of(args));
        Process keytool = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(home.resolve("keytool.log").toFile())).start();
        if (!keytool.waitFor(1, TimeUnit.MINUTES) || keytool.exitValue() != 0) {
            throw new IllegalStateException("keytool " + args[0] + " failed; see " + home.resolve("keytool.log"));
        }
    }

    private static Process java(Path home, String logName, String... args) throws IOException {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path")));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(home.resolve(logName + ".log").toFile())).start();
    }
}
