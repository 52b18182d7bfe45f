package io.herald.ingest;

import io.herald.config.IngestSettings;
import io.herald.config.TopicSettings;
import org.springframework.stereotype.Component;

/**
 * The words for a webhook event the broker refused for its size. Herald refuses a body over herald.ingest.max-body-bytes
 * itself, and its producers take up to herald.ingest.kafka-max-request-size (above the body limit, checked at startup), so a
 * body that got this far and was still refused met a topic whose max.message.bytes is set lower (a topic created or changed
 * by whoever runs the broker): a fault of Herald's setup, not of the request. The reason names the topic and the command that
 * sets it; the webhook answers 500 and keeps the request whole for an operator to send again (InboundRejections).
 */
@Component
public class TopicSizeRefusals {

    private final TopicSettings topics;
    private final IngestSettings ingest;

    public TopicSizeRefusals(TopicSettings topics, IngestSettings ingest) {
        this.topics = topics;
        this.ingest = ingest;
    }

    /** The Kafka topic a webhook of this source writes to. */
    String topicOf(String source) {
        return switch (source == null ? "" : source) {
            case "billing" -> topics.billingEvents();
            case "support" -> topics.supportEvents();
            case "incidents" -> topics.notifications();
            default -> "its Kafka topic";
        };
    }

    /** The reason given to the sender and kept with the request. */
    public String reason(String source, long bodyBytes) {
        String topic = topicOf(source);
        return "Herald's event broker refused this event (" + bodyBytes + " bytes) as too large for Kafka topic " + topic
                + ", whose max.message.bytes is set below what Herald takes (herald.ingest.max-body-bytes " + ingest.maxBodyBytes()
                + " bytes). Nothing was accepted; the request is kept whole for Herald's operators to send again. Operators: set the"
                + " topic's max.message.bytes to herald.ingest.kafka-max-request-size (" + ingest.kafkaMaxRequestSize() + "):"
                + " kafka-configs.sh --alter --entity-type topics --entity-name " + topic + " --add-config max.message.bytes="
                + ingest.kafkaMaxRequestSize();
    }
}
