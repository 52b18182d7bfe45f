package io.herald.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.EOFException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.jdbc.UncategorizedSQLException;
import org.springframework.transaction.TransactionSystemException;

/** What pauses a pipeline (the database or broker is down) and what is the data's fault (quarantined as before). */
class InfrastructureFaultsTest {

    @Test
    void aDatabaseThatCannotBeReachedIsAnInfrastructureFault() {
        SQLException refused = new SQLException("Connection to localhost:5432 refused", "08001", new ConnectException("Connection refused"));
        assertThat(InfrastructureFaults.isInfrastructure(new CannotGetJdbcConnectionException("Failed to obtain JDBC Connection",
                new SQLTransientConnectionException("HikariPool-1 - Connection is not available", "08003", refused)))).isTrue();
        assertThat(InfrastructureFaults.isInfrastructure(refused)).isTrue();
    }

    @Test
    void aConnectionCutByAServerShutdownOrLostMidStatementIsAnInfrastructureFault() {
        assertThat(InfrastructureFaults.isInfrastructure(new UncategorizedSQLException("insert", "INSERT ...",
                new SQLException("terminating connection due to administrator command", "57P01")))).isTrue();
        assertThat(InfrastructureFaults.isInfrastructure(new IllegalStateException("wrapped",
                new SQLException("An I/O error occurred while sending to the backend", "08006", new EOFException())))).isTrue();
    }

    @Test
    void aRollbackThatFailedOnAClosedConnectionIsJudgedByTheErrorItReplaced() {
        // As a full test run saw: the intake transaction's statement lost its connection, the rollback found it closed
        // (HikariCP's "Connection is closed" carries no SQLSTATE), and Spring threw the rollback's exception instead.
        TransactionSystemException rollbackFailed = new TransactionSystemException("JDBC rollback failed", new SQLException("Connection is closed"));
        rollbackFailed.initApplicationException(new UncategorizedSQLException("insert", "INSERT ...",
                new SQLException("An I/O error occurred while sending to the backend", "08006", new EOFException())));
        assertThat(InfrastructureFaults.isInfrastructure(rollbackFailed)).isTrue();

        TransactionSystemException afterBadData = new TransactionSystemException("JDBC rollback failed", new SQLException("Connection is closed"));
        afterBadData.initApplicationException(new DataIntegrityViolationException("value too long for type character varying(200)",
                new SQLException("value too long for type character varying(200)", "22001")));
        assertThat(InfrastructureFaults.isInfrastructure(afterBadData)).isFalse();

        // As DatabaseOutageTest saw: an SMS had gone out, the commit of its SENT was cut off by the server's shutdown, and
        // the rollback after it found the connection closed; Spring throws the rollback's exception with nothing behind it.
        // Read as the provider's fault, the delivery was recorded FAILED though the customer had the message.
        TransactionSystemException commitThenRollbackFailed = new TransactionSystemException("JDBC rollback failed",
                new SQLException("Connection is closed"));
        assertThat(InfrastructureFaults.isInfrastructure(commitThenRollbackFailed)).isTrue();
        assertThat(InfrastructureFaults.isInfrastructure(new IllegalStateException("wrapped", commitThenRollbackFailed))).isTrue();
    }

    /**
     * db-scheduler's JDBC runner, its rollback failing on the connection the server's shutdown closed, throws "Failed to
     * rollback." (HikariCP's "Connection is closed", no SQLSTATE) and keeps the statement's own error as a suppressed one: a
     * full run saw the scheduler's "Unhandled exception. Will keep running." with a stack trace at every poll of an outage.
     */
    @Test
    void aRollbackThatFailedKeepingTheStatementsErrorAsSuppressedIsJudgedByThatError() {
        RuntimeException rollbackFailed = new RuntimeException("Failed to rollback.", new SQLException("Connection is closed"));
        rollbackFailed.addSuppressed(new RuntimeException(new SQLException("FATAL: terminating connection due to administrator command", "57P01")));
        assertThat(InfrastructureFaults.isInfrastructure(rollbackFailed)).isTrue();
        RuntimeException dataFault = new RuntimeException("Failed to rollback.", new SQLException("Connection is closed"));
        dataFault.addSuppressed(new SQLException("value too long for type character varying(200)", "22001"));
        assertThat(InfrastructureFaults.isInfrastructure(dataFault)).isFalse();
    }

    /**
     * A server that answers but cannot take the statement just now: read-only (a hot standby after a failover), out of
     * connections, disk or memory, a lock or statement timeout, a deadlock or serialization failure. The same statement
     * succeeds later, whatever it writes: as the driver throws it (db-scheduler's timer and other plain JDBC see no Spring
     * category) and as Spring leaves a read-only refusal, uncategorized.
     */
    @Test
    void aServerThatCannotTakeTheStatementJustNowIsAnInfrastructureFaultNotTheEvents() {
        for (String state : new String[] {"25006", "53100", "53200", "53300", "55P03", "57014", "40001", "40P01"}) {
            SQLException driver = new SQLException("ERROR: " + state, state);
            assertThat(InfrastructureFaults.isInfrastructure(driver)).as(state).isTrue();
            assertThat(InfrastructureFaults.isInfrastructure(new UncategorizedSQLException("insert", "INSERT ...", driver))).as(state).isTrue();
            RuntimeException rollbackFailed = new RuntimeException("Failed to rollback.", new SQLException("Connection is closed"));
            rollbackFailed.addSuppressed(new RuntimeException(driver));
            assertThat(InfrastructureFaults.isInfrastructure(rollbackFailed)).as("%s under a failed rollback", state).isTrue();
        }
    }

    @Test
    void aBrokerThatDoesNotAnswerIsAnInfrastructureFault() {
        assertThat(InfrastructureFaults.isInfrastructure(new IllegalStateException("send failed",
                new TimeoutException("Expiring 1 record(s) for herald.notifications-0")))).isTrue();
    }

    @Test
    void whatTheDataCausesIsNot() {
        assertThat(InfrastructureFaults.isInfrastructure(new DataIntegrityViolationException("value too long for type character varying(200)",
                new SQLException("value too long for type character varying(200)", "22001")))).isFalse();
        assertThat(InfrastructureFaults.isInfrastructure(new RecordTooLargeException("The message is 2000000 bytes"))).isFalse();
        assertThat(InfrastructureFaults.isInfrastructure(new IllegalArgumentException("customerId is missing"))).isFalse();
        assertThat(InfrastructureFaults.isInfrastructure(null)).isFalse();
    }

    @Test
    void aProviderThatCannotBeReachedIsLeftToTheDeliveryRetryPolicy() {
        assertThat(InfrastructureFaults.isInfrastructure(new ConnectException("Connection refused"))).isFalse();
        assertThat(InfrastructureFaults.isInfrastructure(new SocketTimeoutException("Read timed out"))).isFalse();
    }

    /**
     * Kafka's ACLs refusing Herald one of its topics or its consumer group is the cluster's setup, not the event's: it waits
     * (nothing quarantined; it was taken for a refusal of the event for good, so every event intake read was quarantined),
     * and the outage alert names what to grant.
     */
    @Test
    void kafkaRefusingHeraldATopicOrItsGroupIsAnInfrastructureFaultTheOutageAlertNames() {
        KafkaAccessDenied.forget();
        assertThat(InfrastructureFaults.isInfrastructure(new org.apache.kafka.common.KafkaException("send failed",
                new org.apache.kafka.common.errors.TopicAuthorizationException(java.util.Set.of("herald.notifications"))))).isTrue();
        assertThat(InfrastructureFaults.isInfrastructure(new org.apache.kafka.common.errors.GroupAuthorizationException(
                "not authorised", "herald-100%"))).isTrue();
        assertThat(InfrastructureFaults.systemOf(new org.apache.kafka.common.errors.TopicAuthorizationException(java.util.Set.of("t"))))
                .isEqualTo("Kafka");
        java.util.Map<String, String> outages = KafkaAccessDenied.lately(java.time.Duration.ofMinutes(1));
        assertThat(outages).containsOnlyKeys("kafka-access:consumer group herald-100%", "kafka-access:topic herald.notifications");
        assertThat(outages.get("kafka-access:topic herald.notifications").formatted("21:04 UTC")).startsWith("Kafka refuses Herald access"
                + " to topic herald.notifications since 21:04 UTC (the cluster's ACLs): the events that need it wait, nothing is dropped.")
                .contains("--topic herald.notifications");
        assertThat(outages.get("kafka-access:consumer group herald-100%").formatted("21:04 UTC")).contains("consumer group herald-100%")
                .contains("--group herald-100%");
        KafkaAccessDenied.forget();
    }
}
