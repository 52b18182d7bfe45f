package io.herald.ingest;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.herald.config.IngestSettings;
import io.herald.config.TopicSettings;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.identity.CustomerLinks;
import io.herald.identity.ExternalId;
import io.herald.kafka.InfrastructureFaults;
import io.herald.ledger.NotificationLedger;
import io.herald.ledger.StoredText;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.InvalidNotification;
import io.herald.ops.HeraldMetrics;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.support.DefaultExchange;
import org.apache.camel.support.DefaultMessage;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.stereotype.Component;

/**
 * One Kafka poll of a source's events at intake (camel-kafka batching: the body is the poll's record
 * exchanges). Each record is mapped and validated on its own, in order (split in the *-ingest routes);
 * a valid notification is not admitted or published on its own but kept here, in order. At the end of
 * the batch ({@link #publish}) its customers are looked up in one query (an unknown one quarantines its
 * event), the notifications are admitted to the ledger in one statement (the first dedup guard), and
 * the new ones are published together (one send of the whole list), waiting once for all the broker's
 * acknowledgements. Only after that (and after the batch's quarantines are recorded) are the batch's
 * offsets committed. So a batch costs intake two PostgreSQL statements, not two per event.
 * <p>
 * The kept notifications are a list held in the exchange property {@value #ADMITTED}: the split's record
 * exchanges are copies of the batch exchange whose properties point to the same list, so
 * notification-intake appends to it ({@link #collect}). Without that property (a quarantine re-drive)
 * notification-intake looks up, admits and publishes the notification at once, as before.
 */
@Component
public class IntakeBatch {

    private static final Logger log = LoggerFactory.getLogger(IntakeBatch.class);

    /** Exchange property: the batch's admitted notifications, in the order they were admitted. */
    public static final String ADMITTED = "heraldAdmitted";
    /** Exchange property: the Kafka record a batch's event was read from (NotificationLedger.SourceRecord). */
    public static final String SOURCE_RECORD = "heraldSourceRecord";
    /** Exchange property: the batch's notifications admitted to the ledger and not yet published. */
    private static final String READY = "heraldReadyToPublish";

    /** One mapped and valid notification waiting to be admitted and published, with what its quarantine would need. */
    record Admitted(NotificationLedger.ToAdmit notification, String source, String raw, String step, String traceparent,
                    ExternalId link) {
        String customerId() {
            return notification.notification().customerId();
        }

        /** The same notification for the customer its identity resolved to (through a link, it may differ from the event's). */
        Admitted forCustomer(String resolved, ObjectMapper json) throws JsonProcessingException {
            if (resolved.equals(customerId())) {
                return this;
            }
            var n = notification.notification().forCustomer(resolved);
            return new Admitted(new NotificationLedger.ToAdmit(n, json.writeValueAsString(n), notification.rawPayload(),
                    notification.windowDeadline(), notification.traceparent(), notification.sourceRecord()), source, raw, step, traceparent,
                    link);
        }
    }

    private final ProducerTemplate producer;
    private final CamelContext camel;
    private final Quarantine quarantine;
    private final CustomerLinks links;
    private final io.herald.identity.CustomerDirectory directory;
    private final ObjectMapper json;
    private final NotificationLedger ledger;
    private final HeraldMetrics metrics;
    private final String notificationsUri;
    private final String notificationsTopic;
    private final int maxRequestSize;
    private final TransactionTemplate transaction;
    /** A savepoint inside the batch's transaction: a multi-row admission the database refuses is narrowed down, the rest stands. */
    private final TransactionTemplate savepoint;

    public IntakeBatch(ProducerTemplate producer, CamelContext camel, Quarantine quarantine, CustomerLinks links,
                       io.herald.identity.CustomerDirectory directory, ObjectMapper json,
                       NotificationLedger ledger, HeraldMetrics metrics, TopicSettings topics, IngestSettings ingest,
                       TransactionTemplate transaction) {
        this.transaction = transaction;
        this.savepoint = new TransactionTemplate(transaction.getTransactionManager());
        this.savepoint.setPropagationBehavior(TransactionDefinition.PROPAGATION_NESTED);
        this.producer = producer;
        this.camel = camel;
        this.quarantine = quarantine;
        this.links = links;
        this.directory = directory;
        this.json = json;
        this.ledger = ledger;
        this.metrics = metrics;
        // batchWithIndividualHeaders: each record carries its own headers (its traceparent: tracing, issue 15)
        this.notificationsUri = "kafka:" + topics.notifications() + "?batchWithIndividualHeaders=true";
        this.notificationsTopic = topics.notifications();
        this.maxRequestSize = ingest.kafkaMaxRequestSize();
    }

    /** Start of a batch: an empty list for the notifications its records admit. */
    public void begin(Exchange batch) {
        batch.setProperty(ADMITTED, new ArrayList<Admitted>());
    }

    /**
     * One record of the batch (the split's body is the record's exchange): its value, the raw source event, becomes the body,
     * without a leading byte order mark (a producer writing straight to the topic may put one there). Where it was read from
     * (topic, partition, offset) goes with it to the ledger: the same record read again after a rebalance or a crash is
     * not counted as a repeat of the event.
     */
    public void recordValue(Exchange record) {
        Object value = record.getMessage().getBody();
        Object event = value instanceof Exchange polled ? polled.getMessage().getBody() : value;
        record.getMessage().setBody(event instanceof String text ? ByteOrderMark.strip(text)
                : event instanceof byte[] bytes ? ByteOrderMark.strip(bytes) : event);
        if (value instanceof Exchange polled) {
            io.herald.tracing.TraceParent.continueRecord(polled, record);   // tracing (issue 15): the record's trace goes on
            Message read = polled.getMessage();
            String topic = read.getHeader(KafkaConstants.TOPIC, String.class);
            Integer partition = read.getHeader(KafkaConstants.PARTITION, Integer.class);
            Long offset = read.getHeader(KafkaConstants.OFFSET, Long.class);
            if (topic != null && partition != null && offset != null) {
                record.setProperty(SOURCE_RECORD, new NotificationLedger.SourceRecord(topic + "/" + partition, offset));
            }
        }
    }

    /** notification-intake admitted a new notification in a batch: keep it (key and body) for the batch's publish. */
    @SuppressWarnings("unchecked")
    public void collect(Exchange record) {
        List<Admitted> admitted = record.getProperty(ADMITTED, List.class);
        admitted.add(new Admitted(record.getProperty(NotificationIntake.TO_ADMIT, NotificationLedger.ToAdmit.class),
                record.getProperty(NotificationIntake.SOURCE, String.class),
                record.getProperty(NotificationIntake.RAW, String.class),
                record.getProperty(Quarantine.STEP, String.class),
                io.herald.tracing.TraceParent.current(),   // tracing (issue 15): dispatch continues intake's trace
                record.getProperty(NotificationIntake.LINK, ExternalId.class)));   // identity links (issue 13)
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
        List<Admitted> collected = batch.getProperty(ADMITTED, List.class);
        List<Admitted> admitted = batch.getProperty(READY, List.class);
        if (admitted == null) {
            // Admitted once: a publish retried after a broker fault publishes what was admitted, it does not admit again.
            admitted = collected == null ? List.of() : admit(collected);
            batch.setProperty(READY, admitted);
            if (collected != null) {
                collected.clear();
            }
        }
        if (admitted.isEmpty()) {
            batch.removeProperty(READY);
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
                    exchange.getMessage().setHeader(KafkaConstants.KEY, notification.customerId());
                    exchange.getMessage().setBody(notification.notification().canonicalJson());
                });
                if (one.getException() != null && InfrastructureFaults.isInfrastructure(one.getException())) {
                    throw one.getException();
                }
                if (one.getException() != null) {
                    // Refused for good (not an outage): the event ends in one row, its quarantine, not also in a notification
                    // that would stay RECEIVED for ever; a re-drive admits it again.
                    Exception refusal = tooLarge(notification, one.getException(), notificationsTopic, maxRequestSize);
                    transaction.executeWithoutResult(status -> {
                        ledger.withdraw(notification.notification().notification().idempotencyKey());
                        quarantine(notification, refusal);
                    });
                }
            }
        }
        batch.removeProperty(READY);
    }

    /**
     * The batch's notifications whose customer is in the directory (one query for the batch; the others are
     * quarantined, each with its reason) admitted to the ledger in one statement: returns those to publish,
     * new or admitted before but never routed; duplicates stop here. A statement refused for anything but an
     * infrastructure fault is narrowed down by admitting them one at a time: a refused one is quarantined alone.
     * All of it is one transaction (the identity lookup, the quarantines, the admission): a batch whose admission
     * fails leaves nothing behind, and is admitted and quarantined again, once, when its publish is tried again.
     */
    private List<Admitted> admit(List<Admitted> collected) throws JsonProcessingException {
        try {
            return transaction.execute(status -> {
                try {
                    return admitInOneTransaction(collected);
                } catch (JsonProcessingException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        } catch (java.io.UncheckedIOException e) {
            throw (JsonProcessingException) e.getCause();
        }
    }

    private List<Admitted> admitInOneTransaction(List<Admitted> collected) throws JsonProcessingException {
        List<CustomerLinks.Claim> claims = collected.stream()
                .map(a -> new CustomerLinks.Claim(a.link(), a.customerId())).toList();
        List<String> customers = links.resolveAllHeld(claims);   // held against an erasure until this transaction ends
        List<Admitted> resolved = new ArrayList<>();
        for (int i = 0; i < collected.size(); i++) {
            Admitted notification = collected.get(i);
            if (customers.get(i) != null) {
                resolved.add(notification.forCustomer(customers.get(i), json));
            } else {
                CanonicalNotification n = notification.notification().notification();
                CustomerLinks.Claim claim = claims.get(i);
                quarantine(notification, directory.erased(n.source(), n.sourceEventId(), claim.customerId())   // erased, or not linked / unknown
                        .orElseGet(() -> CustomerLinks.unknown(n.source(), n.sourceEventId(), claim)));
            }
        }
        List<NotificationLedger.Admission> admissions;
        try {
            admissions = savepoint.execute(status -> ledger.admitAll(resolved.stream().map(Admitted::notification).toList()));
        } catch (RuntimeException failure) {
            if (InfrastructureFaults.isInfrastructure(failure)) {
                throw failure;
            }
            admissions = new ArrayList<>();
            for (Admitted notification : resolved) {
                try {
                    if (resolved.size() == 1) {
                        throw failure;   // nothing to narrow down: this one was refused
                    }
                    admissions.add(savepoint.execute(status -> ledger.admitAll(List.of(notification.notification()))).get(0));
                } catch (RuntimeException refused) {
                    if (InfrastructureFaults.isInfrastructure(refused)) {
                        throw refused;
                    }
                    quarantine(notification, refused);
                    admissions.add(NotificationLedger.Admission.DUPLICATE);   // not to be published: quarantined
                }
            }
        }
        List<Admitted> toPublish = new ArrayList<>();
        for (int i = 0; i < resolved.size(); i++) {
            Admitted notification = resolved.get(i);
            NotificationLedger.Admission admission = admissions.get(i);
            if (admission == NotificationLedger.Admission.NEW) {
                metrics.notification(notification.notification().notification().type());
            }
            if (admission == NotificationLedger.Admission.DUPLICATE) {
                log.info("{} event not routed: DUPLICATE ({})", notification.source(), notification.notification().notification().sourceEventId());
            } else {
                toPublish.add(notification);
            }
        }
        return toPublish;
    }

    private Message record(Admitted notification) {
        Message message = new DefaultMessage(camel);
        message.setHeader(KafkaConstants.KEY, notification.customerId());
        if (notification.traceparent() != null) {
            message.setHeader(io.herald.tracing.TraceParent.HEADER, notification.traceparent());   // tracing (issue 15)
        }
        message.setBody(notification.notification().canonicalJson());
        return message;
    }

    /**
     * A notification the broker refuses for its size, in words (the producer's own message names neither the event nor
     * what to do); any other refusal as it is. One well below herald.ingest.kafka-max-request-size, which Herald's producer
     * takes, was refused by the topic itself: its max.message.bytes is set lower (by whoever runs the broker), and the words
     * name the topic and the command that sets it; a larger one is to be shortened at its source.
     */
    static Exception tooLarge(Admitted notification, Exception failure, String topic, int maxRequestSize) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RecordTooLargeException) {
                CanonicalNotification n = notification.notification().notification();
                int bytes = notification.notification().canonicalJson().getBytes(StandardCharsets.UTF_8).length;
                String event = n.source() + " event " + StoredText.label(n.sourceEventId(), 120) + " makes a notification of "
                        + String.format(Locale.ROOT, "%,d", bytes) + " bytes";
                if (bytes + RECORD_OVERHEAD <= maxRequestSize) {
                    return new InvalidNotification(event + ", which Kafka topic " + topic + " refused as too large: its"
                            + " max.message.bytes is set below herald.ingest.kafka-max-request-size (" + maxRequestSize + " bytes),"
                            + " which Herald sends; nothing was sent. Set it (kafka-configs.sh --alter --entity-type topics --entity-name "
                            + topic + " --add-config max.message.bytes=" + maxRequestSize + "), then re-drive it");
                }
                return new InvalidNotification(event + ", more than Kafka takes as one record"
                        + " (herald.ingest.kafka-max-request-size, and the notifications topic's max.message.bytes); nothing was sent."
                        + " Shorten the event at its source (fewer order lines, shorter texts), then re-drive it");
            }
        }
        return failure;
    }

    /** Room for a record's key, headers (a traceparent) and batch framing beside its value. */
    private static final int RECORD_OVERHEAD = 16 * 1024;

    private void quarantine(Admitted notification, Exception failure) {
        Exchange refused = new DefaultExchange(camel);
        refused.setProperty(NotificationIntake.SOURCE, notification.source());
        refused.setProperty(NotificationIntake.RAW, notification.raw());
        refused.setProperty(Quarantine.STEP, notification.step());
        refused.setProperty(Exchange.EXCEPTION_CAUGHT, failure);
        quarantine.hold(refused);
    }
}
