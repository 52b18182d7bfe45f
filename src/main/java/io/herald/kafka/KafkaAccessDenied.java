package io.herald.kafka;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;

/**
 * Kafka refusing Herald an operation its ACLs do not grant (a topic it may not write or read, its consumer group): a
 * setting of the cluster, not a fault of the event being processed, so it is an infrastructure fault (InfrastructureFaults:
 * the step waits and is tried again, nothing is quarantined) that lasts until someone grants the access. Kafka itself
 * answers meanwhile, so this class remembers the refusals it is shown, for the outage alert to name what to grant.
 */
public final class KafkaAccessDenied {

    /** Refused topics and groups (as "topic X" / "consumer group X") → when last seen refused, in this instance. */
    private static final Map<String, Instant> SEEN = new ConcurrentHashMap<>();
    private static final Clock CLOCK = Clock.systemUTC();

    private KafkaAccessDenied() {
    }

    /** True when the failure is Kafka refusing an operation Herald's principal is not authorised for; noted for the alert. */
    public static boolean in(Throwable failure) {
        if (failure instanceof AuthorizationException denied) {
            note(denied);
            return true;
        }
        return false;
    }

    private static void note(AuthorizationException denied) {
        Instant now = CLOCK.instant();
        if (denied instanceof TopicAuthorizationException topics && !topics.unauthorizedTopics().isEmpty()) {
            new TreeSet<>(topics.unauthorizedTopics()).forEach(topic -> SEEN.put("topic " + topic, now));
        } else if (denied instanceof GroupAuthorizationException group && group.groupId() != null) {
            SEEN.put("consumer group " + group.groupId(), now);
        } else {
            SEEN.put("an operation on the cluster", now);
        }
    }

    /** What Kafka refused lately (within {@code fresh}), as outage alert key → words ("%s": since when); older refusals forgotten. */
    public static Map<String, String> lately(Duration fresh) {
        Instant since = CLOCK.instant().minus(fresh);
        SEEN.values().removeIf(at -> at.isBefore(since));
        Map<String, String> outages = new LinkedHashMap<>();
        new TreeSet<>(SEEN.keySet()).forEach(what -> outages.put("kafka-access:" + what, "Kafka refuses Herald access to "
                + what.replace("%", "%%") + " since %s (the cluster's ACLs): the events that need it wait, nothing is dropped. Grant Herald's principal what it"
                + " needs (its topics: Describe, Read and Write; its consumer group: Read), e.g. kafka-acls.sh --add --allow-principal"
                + " User:<herald's user> --operation All --topic " + (what.startsWith("topic ") ? what.substring(6) : "<topic>")
                + (what.startsWith("consumer group ") ? " --group " + what.substring(15).replace("%", "%%") : "")));
        return outages;
    }

    /** Forgets what was seen (tests). */
    static void forget() {
        SEEN.clear();
    }
}
