package io.herald.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;

import io.herald.ledger.NotificationLedger;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.InvalidNotification;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.Test;

/**
 * A notification the broker refuses for its size (a topic created with a smaller max.message.bytes than Herald's) is
 * quarantined with its size and what to do, not "because of an unexpected problem".
 */
class TooLargeNotificationTest {

    private static final CanonicalNotification ORDER = new CanonicalNotification("crm:order.confirmed:ORD-1", "crm", "crm-outbox-17",
            "crm.order_confirmed", "cus_1", Instant.parse("2026-12-01T10:00:00Z"), Map.of(), Map.of(), "normal");
    private static final IntakeBatch.Admitted ADMITTED = new IntakeBatch.Admitted(
            new NotificationLedger.ToAdmit(ORDER, "{\"lines\": \"" + "x".repeat(1_100_000) + "\"}", "{}", null, null, null),
            "crm", "{}", "intake", null, null);

    @Test
    void aRecordTooLargeForKafkaSaysHowLargeAndWhatToDo() {
        Exception reason = IntakeBatch.tooLarge(ADMITTED, new KafkaException("send failed",
                new RecordTooLargeException("The message is 1100015 bytes when serialized which is larger than 1048576")),
                "herald.notifications", 1048576);

        assertThat(reason).isInstanceOf(InvalidNotification.class).hasMessage("crm event crm-outbox-17 makes a notification of 1,100,013 bytes,"
                + " more than Kafka takes as one record (herald.ingest.kafka-max-request-size, and the notifications topic's"
                + " max.message.bytes); nothing was sent. Shorten the event at its source (fewer order lines, shorter texts), then re-drive it");
        assertThat(MappingErrors.readable(reason, "intake", "crm", "crm-outbox-17", null)).isEqualTo(reason.getMessage());
    }

    /** Within what Herald's producer takes, the topic (set smaller by whoever runs the broker) refused it: named, with the fix. */
    @Test
    void aRecordTheTopicRefusesBelowHeraldsLimitNamesTheTopicAndItsSetting() {
        Exception reason = IntakeBatch.tooLarge(ADMITTED, new KafkaException("send failed",
                new RecordTooLargeException("The request included a message larger than the max message size the server will accept.")),
                "herald.notifications", 2097152);

        assertThat(reason).isInstanceOf(InvalidNotification.class).hasMessage("crm event crm-outbox-17 makes a notification of 1,100,013 bytes,"
                + " which Kafka topic herald.notifications refused as too large: its max.message.bytes is set below"
                + " herald.ingest.kafka-max-request-size (2097152 bytes), which Herald sends; nothing was sent. Set it (kafka-configs.sh"
                + " --alter --entity-type topics --entity-name herald.notifications --add-config max.message.bytes=2097152), then re-drive it");
    }

    /**
     * A re-drive publishes the notification one at a time and its refusal reaches the quarantine as it is: a refusal by the
     * topic says what the batch path says (it used to send the operator to the event's source); the producer's own refusal
     * (max.request.size) still says to shorten the event.
     */
    @Test
    void aReDriveTheTopicRefusesNamesTheTopicAsTheBatchPathDoes() {
        String byTopic = MappingErrors.readable(new KafkaException("send failed", new RecordTooLargeException(
                "The request included a message larger than the max message size the server will accept.")), "intake", "crm",
                "crm-outbox-17", null, "herald.notifications", 2097152);
        assertThat(byTopic).isEqualTo("crm event crm-outbox-17 makes a notification which Kafka topic herald.notifications refused"
                + " as too large: its max.message.bytes is set below herald.ingest.kafka-max-request-size (2097152 bytes), which Herald"
                + " sends; nothing was sent. Set it (kafka-configs.sh --alter --entity-type topics --entity-name herald.notifications"
                + " --add-config max.message.bytes=2097152), then re-drive it");
        String byProducer = MappingErrors.readable(new RecordTooLargeException("The message is 2200000 bytes when serialized which is"
                + " larger than 2097152, which is the value of the max.request.size configuration."), "intake", "crm", "crm-outbox-17",
                null, "herald.notifications", 2097152);
        assertThat(byProducer).contains("larger than Kafka takes as one record").endsWith("Shorten the event at its source (fewer"
                + " order lines, shorter texts), then re-drive it");
    }

    @Test
    void anyOtherRefusalIsLeftAsItIs() {
        KafkaException other = new KafkaException("something else");
        assertThat(IntakeBatch.tooLarge(ADMITTED, other, "herald.notifications", 2097152)).isSameAs(other);
    }
}
