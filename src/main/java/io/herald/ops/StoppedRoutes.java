package io.herald.ops;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import io.herald.config.AlertSettings;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.ServiceStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Routes an operator stopped or suspended (Hawtio's Stop or Suspend) and left so for longer than
 * herald.alerts.route-stopped-after, for the outage alerts (OutageAlerts): "SMS deliveries are not being sent: route
 * deliver-sms has been suspended since 21:04 UTC; 37 wait. Nothing is lost. To fix it: in Hawtio … Resume". Before, only
 * camelHealth DOWN and a log line said so, and the work piled up unseen.
 *
 * <p>Only routes Herald needs are watched: those Camel starts with Herald (auto-startup). A route switched off by its
 * setting (ticket-notes while herald.helpdesk.enabled is false, the alert routes while herald.alerts.enabled is false) is
 * not started and not needed, so it is never announced, even if someone starts and stops it. Every route Herald starts is
 * needed for something, so none may stay stopped unannounced: a route left stopped on purpose is announced once, after the
 * configured time, and not again until it has run.
 *
 * <p>Seen in memory at each outage poll (herald.alerts.poll-interval-ms), per instance (a route is stopped on one
 * instance, named in the alert and its key): "since" is when a poll first saw it not running.
 */
@Component
public class StoppedRoutes {

    private static final Logger log = LoggerFactory.getLogger(StoppedRoutes.class);
    static final String KEY = "route:";

    /** A route not running for longer than the setting: its outage key, since when, and the alert's words (since as %s). */
    record Stopped(String key, Instant since, String detail) {
    }

    private final CamelContext camel;
    private final JdbcTemplate jdbc;
    private final Duration after;
    private final Map<String, Instant> notRunningSince = new LinkedHashMap<>();

    public StoppedRoutes(CamelContext camel, JdbcTemplate jdbc, AlertSettings alerts) {
        this.camel = camel;
        this.jdbc = jdbc;
        this.after = alerts.routeStoppedAfter();
    }

    /** The routes Herald needs that no poll has seen running for herald.alerts.route-stopped-after. */
    synchronized List<Stopped> longStopped(Instant now) {
        Set<String> present = new HashSet<>();
        List<Stopped> stopped = new ArrayList<>();
        for (Route route : camel.getRoutes()) {
            String id = route.getRouteId();
            ServiceStatus status = camel.getRouteController().getRouteStatus(id);
            if (status == null || status.isStarted() || status.isStarting() || !Boolean.TRUE.equals(route.isAutoStartup())) {
                continue;
            }
            present.add(id);
            Instant since = notRunningSince.computeIfAbsent(id, k -> now);
            if (!now.isBefore(since.plus(after))) {
                stopped.add(new Stopped(KEY + id + "@" + INSTANCE, since, detail(id, status)));
            }
        }
        notRunningSince.keySet().retainAll(present);
        return stopped;
    }

    /** The alert's line: what is not happening, which route and since when (%s), how many wait, what to do. */
    private String detail(String routeId, ServiceStatus status) {
        boolean suspended = status == ServiceStatus.Suspended || status == ServiceStatus.Suspending;
        String what = RouteInWords.of(routeId).stopped();
        String waiting = waiting(routeId);
        return capitalised(what).replace("%", "%%") + ". Herald's route " + routeId + " has been " + (suspended ? "suspended" : "stopped")
                + " since %s" + waiting + "." + lost(routeId)
                + " To fix it: in Hawtio (Camel,"
                + " Routes) select " + routeId + " and click " + (suspended ? "Resume" : "Start") + ". It is "
                + (suspended ? "suspended" : "stopped") + " on instance " + INSTANCE.replace("%", "%%") + ".";
    }

    /** " Nothing is lost: …" where the work waits for the route; nothing for a webhook, whose refused calls are the sender's to repeat. */
    private static String lost(String routeId) {
        if (RouteInWords.channelOf(routeId) != null) {
            return " Nothing is lost: they go out once the route runs again.";
        }
        return RouteInWords.keepsItsWork(routeId) ? " Nothing is lost: what waits is processed once the route runs again." : "";
    }

    /** ", 37 SMS deliveries waiting" for a channel's route (due in the ledger); "" for others or when the database does not answer. */
    private String waiting(String routeId) {
        String channel = RouteInWords.channelOf(routeId);
        if (channel == null) {
            return "";
        }
        try {
            Long count = jdbc.queryForObject("SELECT count(*) FROM delivery WHERE channel = ? AND state IN ('PENDING', 'PARKED')"
                    + " AND next_attempt_at <= now()", Long.class, channel);
            String noun = RouteInWords.deliveries(channel);
            return count == null ? "" : ", " + count + " " + (noun.startsWith("SMS") ? noun : noun.toLowerCase(Locale.ROOT)) + " waiting";
        } catch (DataAccessException e) {
            log.debug("The waiting deliveries of {} could not be counted", routeId, e);
            return "";
        }
    }

    /** The line announcing the route runs again (or was removed, e.g. its file reloaded), since {@code over}. */
    String back(String key, String since) {
        int at = key.lastIndexOf('@');
        String routeId = key.substring(KEY.length(), at < 0 ? key.length() : at);
        String instance = at < 0 ? "" : " on instance " + key.substring(at + 1);
        if (camel.getRoute(routeId) == null) {
            return "Herald's route " + routeId + " is no longer stopped since " + since + instance + ": it was removed (its file"
                    + " reloaded or deleted)";
        }
        return capitalised(RouteInWords.of(routeId).back()) + ": Herald's route " + routeId + " is running again since " + since + instance;
    }

    /**
     * This instance's name in a route-stopped alert and its key: a route is stopped on one instance (Hawtio acts on the
     * instance it is opened on), so with several instances the operator must know which, and each instance's stop is an
     * outage of its own (InstanceName).
     */
    static final String INSTANCE = io.herald.web.InstanceName.NAME;

    static boolean isRoute(String key) {
        return key.startsWith(KEY);
    }

    private static String capitalised(String text) {
        return text.isEmpty() ? text : Character.toUpperCase(text.charAt(0)) + text.substring(1);
    }
}
