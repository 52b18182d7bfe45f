package io.herald.ingest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;

import io.herald.identity.Customer;
import io.herald.kafka.InfrastructureFaults;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.support.DefaultExchange;
import org.apache.camel.support.DefaultMessage;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * One Kafka poll of a source's events at intake (camel-kafka batching: the body is the poll's record
 * exchanges). Each record is mapped, validated and admitted on its own, in order (split in the
 * *-ingest routes); a record admitted as new is not published on its own but kept here, in order, and the
 * batch's notifications are then published together (one send of the whole list), waiting once for all the
 * broker's acknowledgements.
 * Only after that (and after the batch's quarantines are recorded) are the batch's offsets committed.
 * <p>
 * The admitted notifications are kept in a list held in the exchange property {@value #ADMITTED}: the
 * split's record exchanges are copies of the batch exchange whose properties point to the same list, so
 * notification-intake appends to it ({@link #collect}). Without that property (a quarantine re-drive)
 * notification-intake publishes the notification at once, as before.
 */
@Component
public class IntakeBatch {

    /** Exchange property: the batch's admitted notifications, in the order they were admitted. */
    public static final String ADMITTED = "heraldAdmitted";

    /** Exchange property: the customers the batch's events named, looked up once per batch (NotificationIntake). */
    public static final String CUSTOMERS = "heraldBatchCustomers";

    /** One admitted notification waiting to be published, with what its quarantine would need. */
    record Admitted(String customerKey, String canonical, String source, String raw, String step, String traceparent) {
    }

    private final ProducerTemplate producer;
    private final CamelContext camel;
    private final Quarantine quarantine;
    private final String notificationsUri;

    public IntakeBatch(ProducerTemplate producer, CamelContext camel, Quarantine quarantine,
                       @Value("${herald.topics.notifications}") String notificationsTopic) {
        this.producer = producer;
        this.camel = camel;
        this.quarantine = quarantine;
        // batchWithIndividualHeaders: each record carries its own headers (its traceparent: tracing, issue 15)
        this.notificationsUri = "kafka:" + notificationsTopic + "?batchWithIndividualHeaders=true";
    }

    /** Start of a batch: an empty list for the notifications its records admit, and for the customers they name. */
    public void begin(Exchange batch) {
        batch.setProperty(ADMITTED, new ArrayList<Admitted>());
        batch.setProperty(CUSTOMERS, new HashMap<String, Customer>());
    }

    /** One record of the batch (the split's body is the record's exchange): its value, the raw source event, becomes the body. */
    public void recordValue(Exchange record) {
        Object value = record.getMessage().getBody();
        record.getMessage().setBody(value instanceof Exchange polled ? polled.getMessage().getBody() : value);
        if (value instanceof Exchange polled) {
            io.herald.tracing.TraceParent.continueRecord(polled, record);   // tracing (issue 15): the record's trace goes on
        }
    }

    /** notification-intake admitted a new notification in a batch: keep it (key and body) for the batch's publish. */
    @SuppressWarnings("unchecked")
    public void collect(Exchange record) {
        List<Admitted> admitted = record.getProperty(ADMITTED, List.class);
        admitted.add(new Admitted(record.getMessage().getHeader(KafkaConstants.KEY, String.class),
                record.getMessage().getBody(String.class),
                record.getProperty(NotificationIntake.SOURCE, String.class),
                record.getProperty(NotificationIntake.RAW, String.class),
                record.getProperty(Quarantine.STEP, String.class),
                io.herald.tracing.TraceParent.current()));   // tracing (issue 15): dispatch continues intake's trace
    }

    /**
     * Publishes the batch's admitted notifications to the notifications topic in one send: camel-kafka sends an
     * Iterable body as separate records, in order, keyed by each message's kafka.KEY (the customer, so one
     * customer's notifications keep their order on their partition), and completes once the broker acknowledged
     * them all. An infrastructure fault (broker unreachable, timed out) is thrown, so the route retries the
     * publish (the whole list again: dispatch queues a notification's deliveries once) and nothing is committed
     * meanwhile. Any other refusal (a notification larger than the topic takes) is narrowed down by publishing
     * them one at a time: the refused one is quarantined alone, as a single publish's failure always was.
     */
    @SuppressWarnings("unchecked")
    public void publish(Exchange batch) throws Exception {
        List<Admitted> admitted = batch.getProperty(ADMITTED, List.class);
        if (admitted == null || admitted.isEmpty()) {
            return;
        }
        List<Message> records = new ArrayList<>(admitted.size());
        for (Admitted notification : admitted) {
            records.add(record(notification));
        }
        Exchange sent = producer.send(notificationsUri, exchange -> exchange.getMessage().setBody(records));
        Exception failure = sent.getException();
        if (failure != null && InfrastructureFaults.isInfrastructure(failure)) {
            throw failure;
        }
        if (failure != null) {
            for (Admitted notification : admitted) {
                Exchange one = producer.send(notificationsUri, exchange -> {
                    exchange.getMessage().setHeader(KafkaConstants.KEY, notification.customerKey());
                    exchange.getMessage().setBody(notification.canonical());
                });
                if (one.getException() != null && InfrastructureFaults.isInfrastructure(one.getException())) {
                    throw one.getException();
                }
                if (one.getException() != null) {
                    quarantine(notification, one.getException());
                }
            }
        }
        admitted.clear();
    }

    private Message record(Admitted notification) {
        Message message = new DefaultMessage(camel);
        message.setHeader(KafkaConstants.KEY, notification.customerKey());
        if (notification.traceparent() != null) {
            message.setHeader(io.herald.tracing.TraceParent.HEADER, notification.traceparent());   // tracing (issue 15)
        }
        message.setBody(notification.canonical());
        return message;
    }

    private void quarantine(Admitted notification, Exception failure) {
        Exchange refused = new DefaultExchange(camel);
        refused.setProperty(NotificationIntake.SOURCE, notification.source());
        refused.setProperty(NotificationIntake.RAW, notification.raw());
        refused.setProperty(Quarantine.STEP, notification.step());
        refused.setProperty(Exchange.EXCEPTION_CAUGHT, failure);
        quarantine.hold(refused);
    }
}
