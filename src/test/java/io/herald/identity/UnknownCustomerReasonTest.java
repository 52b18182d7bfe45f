package io.herald.identity;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** An unknown customer's reason shows an id with spaces around it so that the operator sees why it did not match. */
class UnknownCustomerReasonTest {

    @Test
    void anIdWithSpacesAroundItIsQuotedAndSaysSo() {
        assertThat(CustomerDirectory.unknown("crm", "crm-outbox-7", " cus_1 ").getMessage()).isEqualTo("crm event crm-outbox-7 names"
                + " customer ' cus_1 ' (with spaces around it; customer ids are matched exactly, correct it at the source),"
                + " who is not in Herald's customer directory");
        assertThat(CustomerLinks.unknown("support", "evt-1", new CustomerLinks.Claim(new ExternalId("zendesk", "900"), "cus_2\t"))
                .getMessage()).isEqualTo("Zendesk user 900 is not linked to any customer: link it from the event page in the console (support event evt-1"
                + " names customer 'cus_2\t' (with spaces around it; customer ids are matched exactly, correct it at the source),"
                + " who is not in Herald's customer directory)");
    }

    @Test
    void anOrdinaryIdIsShownAsItIs() {
        assertThat(CustomerDirectory.unknown("billing", "evt_1", "cus_9").getMessage())
                .isEqualTo("billing event evt_1 names customer cus_9, who is not in Herald's customer directory");
    }
}
