package io.herald.identity;

import java.util.Map;

/**
 * An id a source system gives a customer: stripe (the Stripe customer, cus_…), zendesk (the requester's
 * user id), crm (the CRM's account id). The mappings emit it as {@code customerLink: {system, externalId}}.
 */
public record ExternalId(String system, String externalId) {

    /** The systems Herald links, and what their ids name, for reasons people read. */
    static final Map<String, String> SYSTEMS = Map.of("stripe", "Stripe customer", "zendesk", "Zendesk user", "crm", "CRM account");

    /** "Zendesk user 9000000123456". */
    public String describe() {
        return SYSTEMS.getOrDefault(system, system + " id") + " " + externalId;
    }

    public static boolean known(String system) {
        return SYSTEMS.containsKey(system);
    }
}
