package io.herald.incidents;

import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.approval.Approvals;
import io.herald.config.IncidentSettings;
import io.herald.console.AuditTrail;
import io.herald.identity.CustomerDirectory;
import io.herald.ingest.InboundRejected;
import io.herald.ingest.NotificationIntake;
import io.herald.ledger.StoredText;
import io.herald.logging.Masking;
import io.herald.notification.NotificationCatalog;
import io.herald.notification.NotificationRules;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Customer-facing incident notices (issue 16 point 2). An Alertmanager group that names customers (annotation
 * {@code customers}, or a {@code segment} from herald.incidents.notices.segments) becomes, once announced to the ops
 * webhook, one notification per named customer of the catalog's notice type, admitted through the ordinary intake
 * (NotificationIntake: validation, ledger, notifications topic) with an idempotency key from the group, its firing
 * episode and the customer, so a repeat of the firing group never makes a second. Dispatch holds each for approval
 * (the type must be {@code approval: required}; startup checks it). When the group is resolved, a notice still
 * awaiting approval is withdrawn ("incident resolved before approval", no follow-up) and each customer whose notice
 * was approved gets one follow-up of the resolved type, held for approval too. Customers not in the directory are
 * not guessed: they are listed in the reason (audit entry on the incident, the answer to Alertmanager, the log).
 * Plans are stateless apart from who was named (incident_notice), so a retried or repeated notification recomputes
 * them and the ledger's idempotency keys absorb what was already admitted.
 */
@Component
public class IncidentNotices {

    /** Exchange property: the notices' summary in words, for the answer to Alertmanager. */
    static final String SUMMARY = "heraldIncidentNotices";
    static final String WITHDRAWN = "incident resolved before approval; not sent, and no follow-up will be sent";
    static final String NOT_APPROVED = "its notice was not approved (rejected, expired or withdrawn), so no follow-up will be sent";
    static final String NEVER_HELD = "its notice never went out (dispatch did not hold it for approval; see the notification's"
            + " timeline), so no follow-up will be sent";
    static final String ERASED = "the customer is no longer in Herald's customer directory (erased since their notice), so no follow-up"
            + " will be sent";
    static final String REFUSED = "its follow-up is refused by Herald's checks (%s), so no follow-up will be sent";
    static final String NOTICE_REFUSED = "its notice is refused by Herald's checks (%s), so no notice will be sent";
    private static final String SOURCE = "incidents";
    /** Follow-up data: how many alerts Alertmanager left out of the "resolved" notification (truncatedAlerts), and where to check them. */
    static final String LEFT_OUT = "alertsLeftOut";
    static final String ALERTMANAGER = "alertmanager";
    private static final Logger log = LoggerFactory.getLogger(IncidentNotices.class);

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;
    private final CustomerDirectory directory;
    private final Approvals approvals;
    private final AuditTrail audit;
    private final IncidentSettings settings;
    private final boolean enabled;
    private final String catalogFile;
    private final NotificationCatalog catalog;
    private final NotificationRules rules;

    public IncidentNotices(JdbcTemplate jdbc, ObjectMapper json, CustomerDirectory directory, Approvals approvals, AuditTrail audit,
                           NotificationCatalog catalog, NotificationRules rules, IncidentSettings settings) {
        this.catalog = catalog;
        this.rules = rules;
        this.jdbc = jdbc;
        this.json = json;
        this.directory = directory;
        this.approvals = approvals;
        this.audit = audit;
        this.settings = settings;
        this.catalogFile = "the notification catalog (" + catalog.named() + ")";
        this.enabled = check(catalog, settings);
    }

    /**
     * Notices are on when the catalog has the notice type; then it needs the resolved type too, and both (and every other
     * incident.* type) must be held for an approver: a customer-facing incident message never goes out unseen.
     */
    static boolean check(NotificationCatalog catalog, IncidentSettings settings) {
        Set<String> types = new LinkedHashSet<>(List.of(settings.noticeType(), settings.resolvedType()));
        catalog.entries().stream().map(NotificationCatalog.Entry::type).filter(t -> t.startsWith("incident.")).forEach(types::add);
        for (String type : types) {
            if (catalog.knows(type)) {
                NotificationCatalog.Approval approval = catalog.entry(type).approval();
                if (approval == null || approval.field() != null) {
                    throw new IllegalStateException("Notification catalog " + catalog.source() + ": key 'notifications." + type
                            + ".approval' must be 'required': customer-facing incident notices are always approved by a person before"
                            + " they are sent (issue 16)");
                }
            }
        }
        boolean notice = catalog.knows(settings.noticeType());
        if (notice != catalog.knows(settings.resolvedType())) {
            String missing = notice ? settings.resolvedType() : settings.noticeType();
            throw new IllegalStateException("Notification catalog " + catalog.source() + ": key 'notifications." + missing
                    + "' is missing: incident notices need both " + settings.noticeType() + " and " + settings.resolvedType()
                    + " (herald.incidents.notices.notice-type, resolved-type), or neither");
        }
        return notice;
    }

    /**
     * The notifications this Alertmanager notification makes, as mapped canonical notifications (the body, a list, for
     * notification-intake one by one): while firing, a notice per named customer in the directory; once resolved, a
     * follow-up per customer whose notice was approved (and notices still awaiting approval withdrawn). Runs after the
     * ops post was made or found a repeat, outside its transaction.
     */
    public void plan(Exchange exchange) throws JsonProcessingException {
        AlertmanagerNotice notice = exchange.getProperty(IncidentAlerts.NOTICE, AlertmanagerNotice.class);
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setBody(List.of());
        byte[] raw = exchange.getProperty(IncidentAlerts.RAW_BODY, byte[].class);
        exchange.setProperty(NotificationIntake.SOURCE, SOURCE);
        exchange.setProperty(NotificationIntake.RAW, raw == null ? null : new String(raw, StandardCharsets.UTF_8));
        List<Map<String, Object>> rows = jdbc.queryForList("SELECT id, status, fired_at, resolved_at, title FROM incident WHERE group_digest = ?",
                notice.groupDigest());
        if (rows.isEmpty() || rows.get(0).get("fired_at") == null) {
            return;   // resolved without ever firing here: nobody was told, nobody to follow up
        }
        Incident incident = new Incident(((Number) rows.get(0).get("id")).longValue(), notice.groupDigest(), (String) rows.get(0).get("status"),
                ((Timestamp) rows.get(0).get("fired_at")).toInstant(),
                rows.get(0).get("resolved_at") == null ? null : ((Timestamp) rows.get(0).get("resolved_at")).toInstant(),
                notice.affected().customerSummary() != null ? notice.affected().customerSummary()
                        : notice.summary() != null ? notice.summary() : notice.title());
        // An earlier firing of the group that resolved while some of its notices were not yet held, or whose follow-ups were
        // not admitted (Alertmanager answered 503), and that fired again before Alertmanager sent the resolution again: that
        // resolution never comes back (the group fires now), so its customers are settled at this notification of the group.
        List<Object> earlier = earlierFirings(exchange, incident);
        if (!incident.status().equals(notice.status())) {
            exchange.getMessage().setBody(earlier);
            return;   // a late copy of an older state (the row moved on): the newer notification plans
        }
        if (notice.firing()) {
            firing(exchange, notice, incident);
        } else {
            resolved(exchange, incident, notice);
        }
        if (!earlier.isEmpty()) {
            List<Object> all = new ArrayList<>(earlier);
            all.addAll(exchange.getMessage().getBody(List.class));
            exchange.getMessage().setBody(all);
        }
    }

    /**
     * The follow-ups (and withdrawals) still owed for the group's earlier firings: customers named in a firing before the current
     * one whose notice is neither followed up nor withdrawn, or whose follow-up never reached the ledger. Each is settled as that
     * firing's resolution would have: a notice awaiting approval is withdrawn, an approved one gets its follow-up (keyed by that
     * firing, so exactly one), a notice not yet held by dispatch is answered 503 and settled when Alertmanager sends again.
     */
    private List<Object> earlierFirings(Exchange exchange, Incident incident) throws JsonProcessingException {
        List<Timestamp> episodes = jdbc.queryForList("""
                SELECT DISTINCT i.episode FROM incident_notice i
                WHERE i.incident_id = ? AND i.episode < ?
                  AND (i.outcome = 'NOTICE' OR (i.outcome = 'FOLLOWED_UP' AND NOT EXISTS (SELECT 1 FROM notification_all f
                       WHERE f.idempotency_key = 'incidents:resolved:' || ? || ':' || floor(extract(epoch FROM i.episode))::bigint
                                                 || ':' || i.customer_id)))
                ORDER BY i.episode""", Timestamp.class, incident.id(), Timestamp.from(incident.firedAt()),
                incident.groupDigest().substring(0, 32));
        List<Object> followUps = new ArrayList<>();
        for (Timestamp episode : episodes) {
            // When that firing was announced resolved (its audit entry); else, at the latest, when the next one began.
            Timestamp resolvedAt = jdbc.queryForObject("SELECT min(acted_at) FROM operator_action WHERE target = 'incident'"
                    + " AND target_id = ? AND action = 'INCIDENT_RESOLVED' AND acted_at >= ? AND acted_at <= ?", Timestamp.class,
                    incident.id(), episode, Timestamp.from(incident.firedAt()));
            Incident earlier = new Incident(incident.id(), incident.groupDigest(), "resolved", episode.toInstant(),
                    resolvedAt == null ? incident.firedAt() : resolvedAt.toInstant(), incident.summary());
            followUps.addAll(settle(exchange, earlier, "earlier firing (since " + iso(earlier.firedAt()) + ") resolved: ", Map.of()));
        }
        return followUps;
    }

    /** The incident row as announced; its firing episode (fired_at) tells one firing of the group from the next. */
    private record Incident(long id, String groupDigest, String status, Instant firedAt, Instant resolvedAt, String summary) {
        long episode() {
            return firedAt.getEpochSecond();
        }

        /** incidents:&lt;kind&gt;:&lt;group digest&gt;:&lt;firing episode&gt;:&lt;customer&gt;: one per customer and firing of the group. */
        String key(String kind, String customer) {
            return "incidents:" + kind + ":" + groupDigest.substring(0, 32) + ":" + episode() + ":" + customer;
        }
    }

    private void firing(Exchange exchange, AlertmanagerNotice notice, Incident incident) throws JsonProcessingException {
        AlertmanagerNotice.Affected affected = notice.affected();
        if (!affected.any()) {
            return;
        }
        if (!enabled) {
            summary(exchange, "customers are named, but customer notices are off: " + catalogFile + " has no " + settings.noticeType()
                    + " type; nobody was notified");
            log.warn("Incident {} names customers, but customer notices are off ({} has no {} type); nobody was notified",
                    incident.id(), catalogFile, settings.noticeType());
            return;
        }
        String overCap = capExceeded(notice);
        if (overCap != null) {
            summary(exchange, overCap);
            if (firstTime(incident, overCap)) {
                audit.record(Instant.now(), "alertmanager", "INCIDENT_NOTICES", "incident", incident.id(), null, null, overCap);
            }
            log.warn("Incident {}: {}", incident.id(), overCap);
            return;
        }
        Set<String> named = named(affected, settings);
        List<String> problems = new ArrayList<>();
        for (String segment : affected.segments()) {
            if (settings.segment(segment) == null) {
                problems.add("segment '" + StoredText.label(segment, 80) + "' is not defined (herald.incidents.notices.segments."
                        + StoredText.label(segment, 80) + "): nobody in it was notified");
            }
        }
        Set<String> unusable = new LinkedHashSet<>();
        named.removeIf(id -> (id.length() > 64 || StoredText.unsafe(id)) && unusable.add(StoredText.label(id, 64)));
        if (!unusable.isEmpty()) {
            problems.add("not customer ids (longer than 64 characters or with control characters), not notified: "
                    + String.join(", ", unusable));
        }
        Set<String> known = directory.findAll(named).keySet();
        List<String> unknown = named.stream().filter(id -> !known.contains(id)).toList();
        if (!unknown.isEmpty()) {
            problems.add("not in the customer directory, not notified (check the alert's customers annotation or the segment): "
                    + String.join(", ", unknown));
        }
        List<String> noticed = new ArrayList<>();
        List<Object> notices = new ArrayList<>();
        Map<String, List<String>> notMade = new LinkedHashMap<>();   // reason -> customers whose notice the intake would refuse
        for (String customer : named) {
            boolean isKnown = known.contains(customer);
            String key = incident.key("notice", customer);
            Map<String, Object> made = isKnown ? canonical(key, settings.noticeType(), "high", incident, customer,
                    Map.of("summary", incident.summary(), "startedAt", iso(incident.firedAt()))) : null;
            String refused = made == null ? null : refusal(made);
            if (refused != null && !madeBefore(key)) {
                // The intake would refuse it every time: settled here, once, with the reason, rather than failing this
                // notification and every later one of the group, and the other customers' notices with it.
                String reason = NOTICE_REFUSED.formatted(refused);
                jdbc.update("""
                        INSERT INTO incident_notice (incident_id, episode, customer_id, outcome, reason) VALUES (?, ?, ?, 'WITHDRAWN', ?)
                        ON CONFLICT (incident_id, episode, customer_id) DO UPDATE SET outcome = 'WITHDRAWN', notice_key = NULL,
                               reason = EXCLUDED.reason, updated_at = now()
                        WHERE incident_notice.outcome IN ('UNKNOWN', 'NOTICE')
                           OR (incident_notice.outcome = 'WITHDRAWN' AND incident_notice.notice_key IS NULL)""",
                        incident.id(), Timestamp.from(incident.firedAt()), customer, reason);
                notMade.computeIfAbsent(reason, r -> new ArrayList<>()).add(customer);
                continue;
            }
            List<String> changed = jdbc.queryForList("""
                    INSERT INTO incident_notice (incident_id, episode, customer_id, outcome, notice_key, reason) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (incident_id, episode, customer_id) DO UPDATE SET outcome = 'NOTICE', notice_key = EXCLUDED.notice_key,
                           reason = NULL, updated_at = now()
                    WHERE (incident_notice.outcome = 'UNKNOWN' OR (incident_notice.outcome = 'WITHDRAWN' AND incident_notice.notice_key IS NULL))
                      AND EXCLUDED.outcome = 'NOTICE'
                    RETURNING outcome""", String.class, incident.id(), Timestamp.from(incident.firedAt()), customer,
                    isKnown ? "NOTICE" : "UNKNOWN", isKnown ? key : null, isKnown ? null : "not in the customer directory: not notified");
            if (!changed.isEmpty() && isKnown) {
                noticed.add(customer);
            }
            if (isKnown && refused == null) {
                notices.add(json.writeValueAsString(made));
            }
        }
        notMade.forEach((reason, customers) -> problems.add("no notice for " + customers.size() + " customer(s), " + reason + ": "
                + String.join(", ", customers)));
        int held = known.size() - notMade.values().stream().mapToInt(List::size).sum();
        String said = held + " customer notice(s) of " + settings.noticeType() + " held for approval"
                + (problems.isEmpty() ? "" : "; " + String.join("; ", problems));
        summary(exchange, said);
        if (!noticed.isEmpty() || (!problems.isEmpty() && firstTime(incident, said))) {
            audit.record(Instant.now(), "alertmanager", "INCIDENT_NOTICES", "incident", incident.id(), null, null,
                    (noticed.isEmpty() ? "" : "customer notices queued for approval: " + String.join(", ", noticed) + ". ") + said);
        }
        if (!problems.isEmpty()) {
            log.warn("Incident {}: {}", incident.id(), Masking.mask(String.join("; ", problems)));
        }
        exchange.getMessage().setBody(notices);
    }

    /** Every customer id the alerts name: their customers annotations and the members of the defined segments they name. */
    static Set<String> named(AlertmanagerNotice.Affected affected, IncidentSettings settings) {
        Set<String> named = new LinkedHashSet<>(affected.customers());
        for (String segment : affected.segments()) {
            List<String> members = settings.segment(segment);
            named.addAll(members == null ? List.of() : members);
        }
        return named;
    }

    /**
     * Null, or (when notices are on and the firing alerts name more customers than herald.incidents.notices.max-customers,
     * or Alertmanager left some of the group's alerts out: truncatedAlerts) why no customer notice is made, in words: how many were named, the cap, and what to do. Nobody is notified rather than
     * some: a cut list would tell some customers and silently not others. Said in the ops post, the answer to Alertmanager,
     * the incident's audit trail and the log.
     */
    public String capExceeded(AlertmanagerNotice notice) {
        if (!enabled || !notice.firing() || !notice.affected().any()) {
            return null;
        }
        if (notice.truncatedAlerts() > 0) {
            return "customer notices NOT created: Alertmanager left " + notice.truncatedAlerts() + " alert(s) of this group out of its"
                    + " notification (the receiver's max_alerts), so the customers they name are not known; nobody was notified"
                    + " rather than some. Raise or remove max_alerts on Herald's receiver in Alertmanager; its next repeat of this"
                    + " group then queues them";
        }
        int count = named(notice.affected(), settings).size();
        if (count <= settings.maxCustomers()) {
            return null;
        }
        return "customer notices NOT created: the alerts name " + count + " customers (customers annotations and segments together),"
                + " more than herald.incidents.notices.max-customers (" + settings.maxCustomers() + "); nobody was notified, and the list"
                + " was not cut. Split the segment into smaller ones (herald.incidents.notices.segments) and name those in separate"
                + " alerts, or raise herald.incidents.notices.max-customers if this many notices should go to approvers; Alertmanager's"
                + " next repeat of this group then queues them";
    }

    /**
     * Whether an approver approved the notice while the resolution was being handled (the withdrawal then finds it decided):
     * it went out, so it gets its follow-up rather than being recorded as withdrawn.
     */
    private boolean approvedMeanwhile(long notification) {
        return "APPROVED".equals(jdbc.query(
                "SELECT state FROM approval WHERE notification_id = ?", (r, n) -> r.getString(1), notification).stream().findFirst().orElse(null));
    }

    /** The same problems are audited once per episode, not at every repeat of the firing group. */
    private boolean firstTime(Incident incident, String said) {
        return jdbc.queryForObject("SELECT count(*) FROM operator_action WHERE target = 'incident' AND target_id = ? AND action = 'INCIDENT_NOTICES'"
                + " AND acted_at >= ? AND right(outcome, length(?)) = ?", Integer.class, incident.id(), Timestamp.from(incident.firedAt()), said, said) == 0;
    }

    /**
     * Alertmanager works out "resolved" from the alerts it put in the notification, after cutting them to max_alerts: those it
     * left out (truncatedAlerts) may still be firing, and Herald cannot see them. The follow-ups are made all the same (this is
     * the group's last notification), held for approval like every follow-up, with the left-out alerts in their reason.
     */
    private void resolved(Exchange exchange, Incident incident, AlertmanagerNotice notice) throws JsonProcessingException {
        Map<String, Object> leftOut = new LinkedHashMap<>();
        if (notice.truncatedAlerts() > 0) {
            leftOut.put(LEFT_OUT, notice.truncatedAlerts());
            if (notice.externalUrl() != null) {
                leftOut.put(ALERTMANAGER, notice.externalUrl());
            }
        }
        exchange.getMessage().setBody(settle(exchange, incident, "resolved: ", leftOut));
    }

    /**
     * Null, or (a follow-up made from a "resolved" notification Alertmanager cut to max_alerts) what its approver must check first,
     * in words: the alerts left out may still be firing. Added to the reason the follow-up is held for approval (Approvals).
     */
    public static String approverCaution(io.herald.notification.CanonicalNotification notification) {
        Object count = notification.data() == null ? null : notification.data().get(LEFT_OUT);
        if (!SOURCE.equals(notification.source()) || count == null || !String.valueOf(count).matches("[1-9][0-9]{0,9}")) {
            return null;
        }
        Object alertmanager = notification.data().get(ALERTMANAGER);
        return caution(Long.parseLong(String.valueOf(count)), alertmanager == null ? null : String.valueOf(alertmanager));
    }

    private static String caution(long leftOut, String alertmanager) {
        return "Alertmanager left " + leftOut + " alert(s) of this incident out of its \"resolved\" notification (the receiver's"
                + " max_alerts), and they may still be firing: check the group in Alertmanager"
                + (alertmanager == null ? "" : " (" + alertmanager + ")") + " before approving";
    }

    /**
     * The resolution of one firing of the group for the customers named in it: withdraws the notices still awaiting approval,
     * returns the follow-ups of those approved, marks the answer 503 (PENDING) when some were not yet held by dispatch.
     */
    private List<Object> settle(Exchange exchange, Incident incident, String audited, Map<String, Object> leftOut) throws JsonProcessingException {
        List<Map<String, Object>> named = jdbc.queryForList("""
                SELECT i.customer_id, i.outcome, n.id AS notification_id, n.state AS notification_state, a.state AS approval,
                       a.approved_digests IS NOT NULL AS approved_before,
                       EXISTS (SELECT 1 FROM delivery_all d WHERE d.notification_id = n.id) AS dispatched
                FROM incident_notice i LEFT JOIN notification_all n ON n.idempotency_key = i.notice_key
                                       LEFT JOIN approval a ON a.notification_id = n.id
                WHERE i.incident_id = ? AND i.episode = ? AND i.outcome IN ('NOTICE', 'FOLLOWED_UP') ORDER BY i.named_at, i.customer_id""",
                incident.id(), Timestamp.from(incident.firedAt()));
        if (named.isEmpty()) {
            return List.of();   // nobody was named while it fired
        }
        // A customer erased since their notice can never be sent a follow-up (the intake refuses them): settled here, once, rather
        // than failing this notification and every later one of the group, and the other customers' follow-ups with it.
        Set<String> inDirectory = directory.findAll(named.stream().map(row -> (String) row.get("customer_id")).toList()).keySet();
        // Follow-ups an earlier notification of the group already made (a repeat or a retry of the resolution): the ledger's key
        // absorbs them again, and the answer says they were not made again rather than counting them as held for approval now.
        Set<String> madeBefore = new java.util.HashSet<>(jdbc.queryForList("SELECT idempotency_key FROM notification_all WHERE idempotency_key"
                + " = ANY(?)", String.class, (Object) named.stream().map(row -> incident.key("resolved", (String) row.get("customer_id")))
                .toArray(String[]::new)));
        int again = 0;
        List<String> withdrawn = new ArrayList<>();
        Map<String, List<String>> notMade = new LinkedHashMap<>();   // reason -> customers settled without a follow-up, now
        List<String> followedUp = new ArrayList<>();
        List<String> pending = new ArrayList<>();
        List<Object> followUps = new ArrayList<>();
        for (Map<String, Object> row : named) {
            String customer = (String) row.get("customer_id");
            String approval = (String) row.get("approval");
            if (row.get("notification_id") == null) {
                continue;   // its notice never reached the ledger: the customer was not told, so no follow-up
            }
            long notification = ((Number) row.get("notification_id")).longValue();
            if (approval == null) {
                if ("DEAD_LETTER".equals(row.get("notification_state")) || Boolean.TRUE.equals(row.get("dispatched"))) {
                    // Dispatch has had it and did not hold it for approval (a dead letter, or stopped there): it never went out,
                    // and it will never be held, so it is settled here rather than waited for at every later notification.
                    jdbc.update("UPDATE incident_notice SET outcome = 'WITHDRAWN', reason = ?, updated_at = now() WHERE incident_id = ?"
                            + " AND episode = ? AND customer_id = ? AND outcome = 'NOTICE'", NEVER_HELD, incident.id(),
                            Timestamp.from(incident.firedAt()), customer);
                    continue;
                }
                pending.add(customer);
                continue;
            }
            // Awaiting approval again after it was approved (a channel's message changed before it went out): what was approved
            // may have reached the customer, so the waiting rest is withdrawn and the customer gets the follow-up.
            boolean approvedBefore = Boolean.TRUE.equals(row.get("approved_before"));
            boolean approved = approval.equals("APPROVED") || approvedBefore;
            if (approval.equals("AWAITING")) {
                if (approvals.withdraw(notification, WITHDRAWN) && !approvedBefore) {
                    withdrawn.add(customer);
                } else if (!approvedBefore) {
                    approved = approvedMeanwhile(notification);
                }
                if (!approved) {
                    jdbc.update("UPDATE incident_notice SET outcome = 'WITHDRAWN', reason = ?, updated_at = now() WHERE incident_id = ?"
                            + " AND episode = ? AND customer_id = ?", WITHDRAWN, incident.id(), Timestamp.from(incident.firedAt()), customer);
                }
            }
            if (!approved && !approval.equals("AWAITING")) {
                // Rejected, expired or withdrawn before anyone approved it: never sent, settled once (not at every later notification).
                jdbc.update("UPDATE incident_notice SET outcome = 'WITHDRAWN', reason = ?, updated_at = now() WHERE incident_id = ?"
                        + " AND episode = ? AND customer_id = ? AND outcome = 'NOTICE'", NOT_APPROVED, incident.id(),
                        Timestamp.from(incident.firedAt()), customer);
            }
            if (approved && !inDirectory.contains(customer)) {
                notMade(incident, customer, ERASED, notMade);
                continue;
            }
            if (approved) {
                String key = incident.key("resolved", customer);
                Map<String, Object> data = new LinkedHashMap<>(Map.of("summary", incident.summary(), "startedAt", iso(incident.firedAt()),
                        "resolvedAt", iso(incident.resolvedAt() == null ? Instant.now() : incident.resolvedAt())));
                data.putAll(leftOut);
                Map<String, Object> followUp = canonical(key, settings.resolvedType(), "normal", incident, customer, data);
                String refused = refusal(followUp);
                if (refused != null) {
                    // The intake would refuse it every time: settled here, once, with the reason, rather than failing this
                    // notification and every later one of the group, and the other customers' follow-ups with it.
                    notMade(incident, customer, REFUSED.formatted(refused), notMade);
                    continue;
                }
                followUps.add(json.writeValueAsString(followUp));
                if (madeBefore.contains(key)) {
                    again++;
                }
                if (jdbc.update("UPDATE incident_notice SET outcome = 'FOLLOWED_UP', updated_at = now() WHERE incident_id = ? AND episode = ?"
                        + " AND customer_id = ? AND outcome = 'NOTICE'", incident.id(), Timestamp.from(incident.firedAt()), customer) > 0) {
                    followedUp.add(customer);
                }
            }
        }
        int madeNow = followUps.size() - again;
        String caution = leftOut.isEmpty() || madeNow == 0 ? null
                : caution(((Number) leftOut.get(LEFT_OUT)).intValue(), (String) leftOut.get(ALERTMANAGER));
        List<String> notMadeSaid = new ArrayList<>();
        notMade.forEach((reason, customers) -> notMadeSaid.add("no follow-up for " + customers.size() + " customer(s), " + reason + ": "
                + String.join(", ", customers)));
        if (!withdrawn.isEmpty() || !followedUp.isEmpty() || !notMade.isEmpty()) {
            List<String> done = new ArrayList<>();
            if (!followedUp.isEmpty()) {
                done.add("follow-ups of " + settings.resolvedType() + " queued for approval: " + String.join(", ", followedUp));
            }
            if (!withdrawn.isEmpty()) {
                done.add("notices withdrawn (incident resolved before approval), no follow-up: " + String.join(", ", withdrawn));
            }
            if (caution != null && !followedUp.isEmpty()) {
                done.add(caution);
            }
            done.addAll(notMadeSaid);
            audit.record(Instant.now(), "alertmanager", "INCIDENT_NOTICES", "incident", incident.id(), null, null,
                    audited + String.join("; ", done));
        }
        if (incident.status().equals(exchange.getProperty(IncidentAlerts.NOTICE, AlertmanagerNotice.class).status())) {
            summary(exchange, madeNow + " follow-up(s) of " + settings.resolvedType() + " held for approval"
                    + (again == 0 ? "" : "; " + again + " follow-up(s) already made at an earlier notification of this group, not made again")
                    + (withdrawn.isEmpty() ? "" : "; " + withdrawn.size() + " notice(s) still awaiting approval withdrawn")
                    + notMadeSaid.stream().map(said -> "; " + said).reduce("", String::concat)
                    + (caution == null ? "" : "; " + caution));
        }
        if (!pending.isEmpty()) {
            // Their notices are admitted but dispatch has not held them yet: withdrawing now would race it. The follow-ups
            // planned so far still go out (their keys absorb the next round); Alertmanager sends the notification again.
            exchange.setProperty(PENDING, pending.size() + exchange.getProperty(PENDING, 0, Integer.class));
        }
        return followUps;
    }

    /** Whether the ledger already holds the notification of this idempotency key (made at an earlier notification). */
    private boolean madeBefore(String key) {
        return jdbc.queryForObject("SELECT count(*) FROM notification_all WHERE idempotency_key = ?", Integer.class, key) > 0;
    }

    /**
     * Settles a customer whose follow-up can never be admitted (erased, or refused by Herald's checks) once: WITHDRAWN with the
     * reason; listed in the answer and the audit trail only when this notification settled them.
     */
    private void notMade(Incident incident, String customer, String reason, Map<String, List<String>> notMade) {
        if (jdbc.update("UPDATE incident_notice SET outcome = 'WITHDRAWN', reason = ?, updated_at = now() WHERE incident_id = ? AND episode = ?"
                + " AND customer_id = ? AND (outcome = 'NOTICE' OR (outcome = 'FOLLOWED_UP' AND NOT EXISTS (SELECT 1 FROM notification_all"
                + " WHERE idempotency_key = ?)))", reason, incident.id(), Timestamp.from(incident.firedAt()), customer,
                incident.key("resolved", customer)) > 0) {
            notMade.computeIfAbsent(reason, r -> new ArrayList<>()).add(customer);
        }
    }

    /**
     * Null, or why the intake would refuse this follow-up, in words: its type left the catalog (customer notices turned off
     * since the notice), or config/rules.yaml refuses it (a text longer than texts.max-length, a rule of the type). The same
     * checks the intake makes (NotificationValidator), asked before, so that one customer's refusal is not the notification's.
     */
    private String refusal(Map<String, Object> followUp) {
        String type = (String) followUp.get("type");
        if (!catalog.knows(type)) {
            return catalogFile + " no longer has the type " + type + " (customer notices were turned off)";
        }
        Instant now = Instant.now();
        com.fasterxml.jackson.databind.JsonNode mapped = rules.leftOut(type, json.valueToTree(followUp), now);
        List<String> problems = rules.problems(type, mapped, now);
        return problems.isEmpty() ? null : String.join("; ", problems);
    }

    static final String PENDING = "heraldIncidentNoticesPending";

    /**
     * After the follow-ups were admitted: refuses with 503 when some notices were not yet held by dispatch, so that
     * Alertmanager sends the resolution again and they are withdrawn or followed up then.
     */
    public void settled(Exchange exchange) {
        Integer pending = exchange.getProperty(PENDING, Integer.class);
        if (pending != null) {
            exchange.getMessage().setBody(exchange.getProperty(IncidentAlerts.RAW_BODY));   // the refusal keeps what Alertmanager sent
            throw new InboundRejected(503, pending + " customer notice(s) of this incident are still being queued for approval;"
                    + " the resolution is applied to them when Alertmanager sends this group's notification again");
        }
    }

    private static void summary(Exchange exchange, String said) {
        exchange.setProperty(SUMMARY, said);
    }

    /** The mapped notification notification-intake validates and admits (the canonical contract). */
    private static Map<String, Object> canonical(String key, String type, String priority, Incident incident, String customer,
                                                 Map<String, Object> data) {
        Map<String, Object> mapped = new LinkedHashMap<>();
        mapped.put("idempotencyKey", key);
        mapped.put("source", SOURCE);
        mapped.put("sourceEventId", "incident-" + incident.id() + "-" + incident.episode() + "-" + incident.status());
        mapped.put("type", type);
        mapped.put("customerId", customer);
        mapped.put("occurredAt", iso(incident.status().equals("resolved") && incident.resolvedAt() != null ? incident.resolvedAt()
                : incident.firedAt()));
        mapped.put("refs", Map.of("incidentId", String.valueOf(incident.id())));
        mapped.put("data", data);
        mapped.put("priority", priority);
        return mapped;
    }

    private static String iso(Instant at) {
        return at.atOffset(ZoneOffset.UTC).toString();
    }
}
