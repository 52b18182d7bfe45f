package io.herald.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.kafka.security.*: how Herald logs in to a Kafka cluster that asks for TLS, a login, or both (Confluent Cloud, Amazon
 * MSK with SCRAM, Aiven, Strimzi), for every Kafka client Herald has: its routes' consumers and producers, and the admin
 * clients that declare the topics, check readiness and read consumer lag.
 *
 * @param protocol           plaintext (the default: no TLS, no login), ssl (TLS; with keystore-file, a client certificate),
 *                           sasl_ssl (TLS and a login: what managed Kafka services ask for) or sasl_plaintext (a login without
 *                           TLS: only on a trusted network)
 * @param saslMechanism      with sasl_*: plain (Confluent Cloud's API key and secret), scram-sha-256 or scram-sha-512
 * @param username           with sasl_*: the login (an API key, a SCRAM user)
 * @param password           with sasl_*: its password (an API secret); from the environment, never a file in the repository
 * @param truststoreFile     with ssl or sasl_ssl: the certificates that sign the brokers' (.pem or .crt, .p12 or .pfx, .jks);
 *                           blank: the JVM's own, enough for a service whose brokers have a public certificate
 * @param truststorePassword the truststore's password (not needed for .pem)
 * @param keystoreFile       with ssl or sasl_ssl, for a cluster that asks for a client certificate (mutual TLS): Herald's
 *                           certificate and private key (.pem with both, .p12 or .pfx, .jks)
 * @param keystorePassword   the keystore's password, also its key's (a .pem's key: only if it is encrypted)
 */
@Validated
@ConfigurationProperties("herald.kafka.security")
public record KafkaSecuritySettings(@NotNull @DefaultValue("plaintext") Protocol protocol,
                                    @NotNull @DefaultValue("plain") Mechanism saslMechanism,
                                    @NotNull @DefaultValue("") String username,
                                    @NotNull @DefaultValue("") @Pattern(regexp = Secrets.NO_EDGE_SPACE, message = Secrets.EDGE_SPACE) String password,
                                    @NotNull @DefaultValue("") String truststoreFile,
                                    @NotNull @DefaultValue("") @Pattern(regexp = Secrets.NO_EDGE_SPACE, message = Secrets.EDGE_SPACE) String truststorePassword,
                                    @NotNull @DefaultValue("") String keystoreFile,
                                    @NotNull @DefaultValue("") @Pattern(regexp = Secrets.NO_EDGE_SPACE, message = Secrets.EDGE_SPACE) String keystorePassword) {

    public KafkaSecuritySettings {
        // Each check names the key to change: a login or a certificate Herald would silently not use, or a login without one
        // of its halves, would otherwise show only as a broker that never answers.
        if (protocol != null && protocol.login()) {
            if (username == null || username.isBlank()) {
                throw new IllegalArgumentException("herald.kafka.security.username must be set when herald.kafka.security.protocol is "
                        + protocol.spelled() + " (the login Kafka asks for: an API key, a SCRAM user)");
            }
            if (password == null || password.isEmpty()) {
                throw new IllegalArgumentException("herald.kafka.security.password must be set when herald.kafka.security.protocol is "
                        + protocol.spelled() + " (the login's password or API secret; set it from the environment,"
                        + " HERALD_KAFKA_SECURITY_PASSWORD)");
            }
        } else if (protocol != null && username != null && !username.isBlank()) {
            throw new IllegalArgumentException("herald.kafka.security.username is set while herald.kafka.security.protocol is "
                    + protocol.spelled() + ", which has no login: set the protocol to sasl_ssl (or sasl_plaintext on a trusted"
                    + " network), or remove the username");
        }
        if (protocol != null && !protocol.tls()) {
            for (String[] file : new String[][] {{"truststore-file", truststoreFile}, {"keystore-file", keystoreFile}}) {
                if (file[1] != null && !file[1].isBlank()) {
                    throw new IllegalArgumentException("herald.kafka.security." + file[0] + " is set while herald.kafka.security.protocol"
                            + " is " + protocol.spelled() + ", which has no TLS: set the protocol to ssl or sasl_ssl, or remove the file");
                }
            }
        }
        String truststoreType = storeType("truststore-file", truststoreFile);
        if ("PEM".equals(truststoreType) && truststorePassword != null && !truststorePassword.isEmpty()) {
            // Kafka's clients refuse a password with a PEM truststore, and each would fail on its own words.
            throw new IllegalArgumentException("herald.kafka.security.truststore-password is set while herald.kafka.security.truststore-file"
                    + " is a .pem or .crt file, which has no password: remove the password (HERALD_KAFKA_SECURITY_TRUSTSTORE_PASSWORD)");
        }
        String keystoreType = storeType("keystore-file", keystoreFile);
        if (keystoreType != null && !"PEM".equals(keystoreType) && (keystorePassword == null || keystorePassword.isEmpty())) {
            // Kafka's clients open such a keystore only with its password, and each would fail on its own words.
            throw new IllegalArgumentException("herald.kafka.security.keystore-password must be set when herald.kafka.security.keystore-file"
                    + " is a .p12, .pfx or .jks file (the password it was made with; set it from the environment,"
                    + " HERALD_KAFKA_SECURITY_KEYSTORE_PASSWORD)");
        }
        if (truststoreType != null) {
            opensAsKafkaDoes("truststore", truststoreType, truststoreFile.strip(), truststorePassword);
        }
        if (keystoreType != null) {
            opensAsKafkaDoes("keystore", keystoreType, keystoreFile.strip(), keystorePassword);
        }
    }

    /**
     * Opens the truststore or keystore as Kafka's clients will: one they cannot open (a wrong password, a .crt in binary DER
     * form, a .pem key not in PKCS#8 form) made every Kafka client fail, shown only as a broker that "did not answer".
     */
    private static void opensAsKafkaDoes(String store, String type, String file, String password) {
        java.util.Map<String, Object> ssl = new java.util.HashMap<>();
        ssl.put("ssl." + store + ".type", type);
        ssl.put("ssl." + store + ".location", file);
        if (password != null && !password.isEmpty()) {
            if (!"PEM".equals(type)) {
                ssl.put("ssl." + store + ".password", password);
            }
            if (store.equals("keystore")) {
                ssl.put("ssl.key.password", password);
            }
        }
        try {
            new org.apache.kafka.common.security.ssl.DefaultSslEngineFactory()
                    .configure(new org.apache.kafka.common.config.ConfigDef().withClientSslSupport().parse(ssl));
        } catch (org.apache.kafka.common.KafkaException unreadable) {
            throw new IllegalArgumentException("herald.kafka.security." + store + "-file names " + file + ", which Kafka's clients cannot"
                    + " open with herald.kafka.security." + store + "-password: give the password the file was made with; a .pem or"
                    + " .crt must be PEM text (BEGIN CERTIFICATE; convert a binary one with openssl x509 -inform der), a .pem key in"
                    + " PKCS#8 form (BEGIN PRIVATE KEY, or BEGIN ENCRYPTED PRIVATE KEY with the password set)");
        }
    }

    /**
     * The Kafka client's store type for a truststore or keystore file, from its name (PEM, PKCS12 or JKS); null when no file
     * is set. A file that is not there or not readable, or whose kind its name does not tell, is refused naming the key.
     */
    public static String storeType(String key, String file) {
        if (file == null || file.isBlank()) {
            return null;
        }
        Path path = Path.of(file.strip());
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw new IllegalArgumentException("herald.kafka.security." + key + " names " + file.strip() + ", which is not a file"
                    + " Herald can read: mount it (as a Kubernetes secret) and give its path");
        }
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".pem") || name.endsWith(".crt")) {
            return "PEM";
        }
        if (name.endsWith(".p12") || name.endsWith(".pfx")) {
            return "PKCS12";
        }
        if (name.endsWith(".jks")) {
            return "JKS";
        }
        throw new IllegalArgumentException("herald.kafka.security." + key + " names " + file.strip() + ", whose kind Herald cannot"
                + " tell from its name: give a .pem (or .crt), a .p12 (or .pfx) or a .jks file");
    }

    /** herald.kafka.security.protocol (written in any case: sasl_ssl, SASL_SSL). */
    public enum Protocol implements SettingChoice {
        PLAINTEXT, SSL, SASL_SSL, SASL_PLAINTEXT;

        public boolean login() {
            return this == SASL_SSL || this == SASL_PLAINTEXT;
        }

        public boolean tls() {
            return this == SSL || this == SASL_SSL;
        }

        @Override
        public String spelled() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** herald.kafka.security.sasl-mechanism: plain, scram-sha-256 or scram-sha-512. */
    public enum Mechanism {
        PLAIN("PLAIN", "org.apache.kafka.common.security.plain.PlainLoginModule"),
        SCRAM_SHA_256("SCRAM-SHA-256", "org.apache.kafka.common.security.scram.ScramLoginModule"),
        SCRAM_SHA_512("SCRAM-SHA-512", "org.apache.kafka.common.security.scram.ScramLoginModule");

        private final String kafkaName;
        private final String loginModule;

        Mechanism(String kafkaName, String loginModule) {
            this.kafkaName = kafkaName;
            this.loginModule = loginModule;
        }

        /** The name Kafka's sasl.mechanism takes. */
        public String kafkaName() {
            return kafkaName;
        }

        /** The JAAS login module Kafka's clients use for it. */
        public String loginModule() {
            return loginModule;
        }
    }
}
