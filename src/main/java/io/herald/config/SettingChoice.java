package io.herald.config;

/**
 * A choice of a herald.* setting written as its own system writes it (the PostgreSQL driver's verify-full, Kafka's sasl_ssl),
 * so a refusal lists the choices as the README and the system's own documentation do. A choice without it is listed in
 * lower case with dashes (scram-sha-256).
 */
public interface SettingChoice {

    /** How the setting is written to choose this: what a refusal lists. */
    String spelled();
}
