package io.herald.kafka;

import org.apache.kafka.common.errors.AuthenticationException;

/**
 * Tells a broker that refused Herald's login or TLS handshake (a wrong password, an unknown mechanism, a certificate it does
 * not trust) from one that did not answer: the first is fixed in herald.kafka.security.*, waiting does not help.
 */
public final class KafkaLoginRefused {

    /** What the operator reads (readiness, the log), in words. */
    public static final String REASON = "Kafka refused Herald's login or TLS connection: check herald.kafka.security.* (protocol,"
            + " sasl-mechanism, username, password, truststore-file, keystore-file) against what the cluster asks for";

    private KafkaLoginRefused() {
    }

    /** True when the failure, or anything it was caused by, is Kafka's authentication (SASL or SSL) failure. */
    public static boolean in(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof AuthenticationException) {
                return true;
            }
        }
        return false;
    }
}
