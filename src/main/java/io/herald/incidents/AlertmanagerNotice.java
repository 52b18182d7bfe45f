package io.herald.incidents;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import io.herald.ingest.InboundRejected;
import io.herald.ledger.StoredText;

/**
 * One Alertmanager webhook notification (format version 4): a group of alerts, identified by its
 * groupKey, firing or resolved. Only what the ops post and the incident row need is read; a body that
 * is JSON but not this shape is refused with 400 and a reason naming the field.
 *
 * @see <a href="https://prometheus.io/docs/alerting/latest/configuration/#webhook_config">Alertmanager webhook_config</a>
 */
record AlertmanagerNotice(String groupKey, String groupDigest, String status, String receiver, String title, String summary,
                          String externalUrl, List<Alert> alerts, int truncatedAlerts, Affected affected) {

    /**
     * Who a customer-facing notice goes to and what it says: the customer ids of the annotation {@value #CUSTOMERS}
     * ("cus_a,cus_b"), the segments named by the label or annotation {@value #SEGMENT}, over the group's alerts (while it
     * fires, only those still firing: an alert that already ended affects nobody any more) and
     * its common labels and annotations, and the customer-facing text (annotation {@value #CUSTOMER_SUMMARY}, else
     * the group's summary). Ids as written: the directory decides which are customers.
     */
    record Affected(Set<String> customers, Set<String> segments, String customerSummary) {
        boolean any() {
            return !customers.isEmpty() || !segments.isEmpty();
        }
    }

    static final String CUSTOMERS = "customers";
    static final String SEGMENT = "segment";
    static final String CUSTOMER_SUMMARY = "customer_summary";

    /**
     * One alert of the group: its name and where it fires, what it says, where it came from; its fingerprint (its labels) and
     * startsAt (when this firing of it began: an alert that ended and fires again has the same fingerprint, a new startsAt).
     */
    record Alert(String status, String name, String where, String summary, String description, String link, String fingerprint,
                 String startsAt) {
    }

    static final int SHOWN_CHARS = 500;
    private static final int GROUP_KEY_CHARS = 1000;

    static AlertmanagerNotice of(JsonNode body) {
        String version = body.path("version").asText("");
        if (!version.isEmpty() && !version.equals("4")) {
            throw new InboundRejected(400, "version is \"" + StoredText.label(version, 20) + "\"; Herald reads Alertmanager's"
                    + " webhook format version 4");
        }
        JsonNode groupKey = body.path("groupKey");
        if (!groupKey.isTextual() || groupKey.asText().isBlank()) {
            throw new InboundRejected(400, "groupKey is missing or empty; expected Alertmanager's webhook format (version 4),"
                    + " which names the alert group in groupKey");
        }
        String status = body.path("status").asText("");
        if (!status.equals("firing") && !status.equals("resolved")) {
            throw new InboundRejected(400, "status is \"" + StoredText.label(status, 40) + "\"; expected \"firing\" or \"resolved\"");
        }
        JsonNode alerts = body.path("alerts");
        if (!alerts.isArray() || alerts.isEmpty()) {
            throw new InboundRejected(400, "alerts is missing or empty; expected the group's alerts as a list");
        }
        List<Alert> read = new ArrayList<>();
        for (JsonNode alert : alerts) {
            if (!alert.isObject()) {
                throw new InboundRejected(400, "alerts holds something other than alert objects; expected Alertmanager's alerts");
            }
            JsonNode labels = alert.path("labels");
            JsonNode annotations = alert.path("annotations");
            read.add(new Alert(alert.path("status").asText(status), shown(labels.path("alertname").asText("alert")),
                    shown(labels.path("instance").asText(labels.path("service").asText(null))),
                    shown(annotations.path("summary").asText(null)), shown(annotations.path("description").asText(null)),
                    shown(alert.path("generatorURL").asText(null)),
                    alert.path("fingerprint").asText(labels.toString()), alert.path("startsAt").asText("")));
        }
        String key = groupKey.asText();
        return new AlertmanagerNotice(StoredText.label(key, GROUP_KEY_CHARS), sha256(key), status,
                StoredText.label(body.path("receiver").asText(null), 200), title(body, read),
                shown(body.path("commonAnnotations").path("summary").asText(null)),
                shown(body.path("externalURL").asText(null)), read, Math.max(body.path("truncatedAlerts").asInt(0), 0),
                affected(body));
    }

    private static Affected affected(JsonNode body) {
        Set<String> customers = new LinkedHashSet<>();
        Set<String> segments = new LinkedHashSet<>();
        String customerSummary = null;
        List<JsonNode> places = new ArrayList<>(List.of(body.path("commonAnnotations"), body.path("commonLabels"), body.path("groupLabels")));
        boolean firing = body.path("status").asText("").equals("firing");
        for (JsonNode alert : body.path("alerts")) {
            if (firing && alert.path("status").asText("firing").equals("resolved")) {
                continue;   // ended since the last notification: who it names is no longer affected by it
            }
            places.add(alert.path("annotations"));
            places.add(alert.path("labels"));
        }
        for (JsonNode place : places) {
            customers.addAll(split(place.path(CUSTOMERS).asText("")));
            segments.addAll(split(place.path(SEGMENT).asText("")));
            if (customerSummary == null) {
                customerSummary = shown(place.path(CUSTOMER_SUMMARY).asText(null));
            }
        }
        return new Affected(customers, segments, customerSummary);
    }

    /** "cus_a, cus_b cus_c" -> the ids, in order. */
    private static List<String> split(String list) {
        return Arrays.stream(list.split("[,;\\s]+")).map(String::strip).filter(id -> !id.isEmpty()).toList();
    }

    boolean firing() {
        return status.equals("firing");
    }

    /** The alerts this notice announces: the firing ones while the group fires, all of them once it is resolved. */
    List<Alert> announced() {
        if (!firing()) {
            return alerts;
        }
        List<Alert> firing = alerts.stream().filter(a -> a.status().equals("firing")).toList();
        return firing.isEmpty() ? alerts : firing;
    }

    /** Whether every alert says when its firing started (Alertmanager's always do): then a firing with other starts is a new one. */
    boolean startsKnown() {
        return alerts.stream().noneMatch(a -> a.startsAt().isBlank());
    }

    /**
     * While the group fires, its alerts that have ended since Alertmanager's last notification (send_resolved: true sends them
     * with the firing ones); none once the whole group is resolved, when all are announced as resolved.
     */
    List<Alert> resolvedWhileFiring() {
        if (!firing() || announced() == alerts) {
            return List.of();
        }
        return alerts.stream().filter(a -> !a.status().equals("firing")).toList();
    }

    /**
     * Which alerts are announced, each with the start of its firing: a repeat with the same alerts has the same digest and is
     * not posted again, while an alert that ended and fires again (a new startsAt; with send_resolved: false Alertmanager sent
     * no "resolved" in between) is news. The alerts Alertmanager left out (truncatedAlerts) count too: a group that grows behind
     * max_alerts is news.
     */
    String alertsDigest() {
        return sha256(String.join("\n", announced().stream().map(a -> a.fingerprint() + "@" + a.startsAt()).sorted().toList())
                + (firing() && truncatedAlerts > 0 ? "\ntruncated:" + truncatedAlerts : ""));
    }

    /** The group's labels ("alertname=DiskFull, cluster=eu-1"), else the common alert name, else the first alert's. */
    private static String title(JsonNode body, List<Alert> alerts) {
        Map<String, String> labels = new TreeMap<>();
        body.path("groupLabels").fields().forEachRemaining(f -> labels.put(f.getKey(), f.getValue().asText()));
        if (!labels.isEmpty()) {
            StringBuilder title = new StringBuilder();
            labels.forEach((k, v) -> title.append(title.isEmpty() ? "" : ", ").append(k).append('=').append(v));
            return shown(title.toString());
        }
        String common = body.path("commonLabels").path("alertname").asText(null);
        return shown(common != null ? common : alerts.get(0).name());
    }

    private static String shown(String text) {
        return text == null || text.isBlank() ? null : StoredText.truncate(StoredText.content(text).strip(), SHOWN_CHARS);
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }
}
