package io.herald.kafka;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

import io.herald.config.KafkaSecuritySettings;
import org.apache.camel.component.kafka.KafkaComponent;
import org.apache.camel.component.kafka.KafkaConfiguration;
import org.apache.camel.spi.ComponentCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * herald.kafka.security.* as Kafka client settings (security.protocol, sasl.*, ssl.*), given to every Kafka client Herald has:
 * the Camel Kafka component (each route's consumers and producers) and the admin clients (HeraldTopics, KafkaHealth,
 * OpsKafkaAdmin). With the default plaintext nothing is set, so camel.component.kafka.* settings made by hand still apply.
 */
@Configuration
public class KafkaClientSecurity {

    private final Map<String, String> properties;

    public KafkaClientSecurity(KafkaSecuritySettings settings) {
        this.properties = properties(settings);
    }

    /** The client settings, to be added to an admin client's own (empty with plaintext). */
    public Properties adminProperties() {
        Properties config = new Properties();
        config.putAll(properties);
        return config;
    }

    /**
     * The same settings on the Camel Kafka component, so every kafka: endpoint's consumer and producer log in alike. Applied
     * last: camel-kafka-starter's own customizer copies camel.component.kafka.* with their defaults (PLAINTEXT) onto the
     * component, and run after this one it left every route's clients without TLS or login, in some starts and not others.
     */
    @Bean
    ComponentCustomizer kafkaLogin() {
        return ComponentCustomizer.builder(KafkaComponent.class).withOrder(org.apache.camel.Ordered.LOWEST).build(kafka -> {
            if (!properties.isEmpty()) {
                apply(kafka.getConfiguration());
            }
        });
    }

    private void apply(KafkaConfiguration configuration) {
        configuration.setSecurityProtocol(properties.get("security.protocol"));
        if (properties.containsKey("sasl.mechanism")) {
            configuration.setSaslMechanism(properties.get("sasl.mechanism"));
            configuration.setSaslJaasConfig(properties.get("sasl.jaas.config"));
        }
        if (properties.containsKey("ssl.truststore.location")) {
            configuration.setSslTruststoreLocation(properties.get("ssl.truststore.location"));
            configuration.setSslTruststoreType(properties.get("ssl.truststore.type"));
            configuration.setSslTruststorePassword(properties.get("ssl.truststore.password"));
        }
        if (properties.containsKey("ssl.keystore.location")) {
            configuration.setSslKeystoreLocation(properties.get("ssl.keystore.location"));
            configuration.setSslKeystoreType(properties.get("ssl.keystore.type"));
            configuration.setSslKeystorePassword(properties.get("ssl.keystore.password"));
            configuration.setSslKeyPassword(properties.get("ssl.key.password"));
        }
    }

    static Map<String, String> properties(KafkaSecuritySettings settings) {
        Map<String, String> config = new LinkedHashMap<>();
        if (settings.protocol() == KafkaSecuritySettings.Protocol.PLAINTEXT) {
            return config;
        }
        config.put("security.protocol", settings.protocol().name());
        if (settings.protocol().login()) {
            config.put("sasl.mechanism", settings.saslMechanism().kafkaName());
            config.put("sasl.jaas.config", settings.saslMechanism().loginModule() + " required username=\"" + jaasQuoted(settings.username())
                    + "\" password=\"" + jaasQuoted(settings.password()) + "\";");
        }
        String truststoreType = KafkaSecuritySettings.storeType("truststore-file", settings.truststoreFile());
        if (truststoreType != null) {
            config.put("ssl.truststore.location", settings.truststoreFile().strip());
            config.put("ssl.truststore.type", truststoreType);
            putIfSet(config, "ssl.truststore.password", settings.truststorePassword());
        }
        String keystoreType = KafkaSecuritySettings.storeType("keystore-file", settings.keystoreFile());
        if (keystoreType != null) {
            config.put("ssl.keystore.location", settings.keystoreFile().strip());
            config.put("ssl.keystore.type", keystoreType);
            if (!"PEM".equals(keystoreType)) {
                putIfSet(config, "ssl.keystore.password", settings.keystorePassword());
            }
            putIfSet(config, "ssl.key.password", settings.keystorePassword());
        }
        return config;
    }

    private static void putIfSet(Map<String, String> config, String key, String value) {
        if (value != null && !value.isEmpty()) {
            config.put(key, value);
        }
    }

    /** A value inside a JAAS option's double quotes: a quote or backslash in a password escaped, so it cannot end the option. */
    private static String jaasQuoted(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
