package io.herald.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.testsupport.Samples;
import org.junit.jupiter.api.Test;

/** What a viewer sees of the real-shaped samples: people masked, business data readable. */
class ViewerMaskingTest {

    private final ViewerMasking masking = new ViewerMasking(new ObjectMapper());

    @Test
    void aBillingEventShowsNoEmailNameOrPhoneToAViewer() {
        String raw = Samples.text("billing/invoice.payment_failed.json");
        String viewer = masking.payload(raw, true);
        assertThat(viewer).doesNotContain("jenny.rosen@example.com", "Jenny Rosen")
                .contains("\"customer_email\" : \"j***@example.com\"", "\"customer_name\" : \"J•••\"", "cus_RkT4aB7cD9eF1g");
        assertThat(masking.payload(raw, false)).contains("jenny.rosen@example.com", "Jenny Rosen");
    }

    @Test
    void productNamesStayReadableAndPeopleInNestedObjectsAreMasked() {
        String viewer = masking.payload("""
                {"lines": [{"name": "Laser printer 4410"}], "requester": {"name": "Sam Okafor", "id": 7},
                 "push_tokens": ["fcm:abc"], "note": "call +44 7700 900123 or sam@example.org"}""", true);
        assertThat(viewer).contains("Laser printer 4410", "\"id\" : 7").doesNotContain("Sam Okafor", "fcm:abc", "7700 900123", "sam@example.org");
    }

    /** A viewer reads the Zendesk ids that find the user and the ticket, in the payload and in a reason; never the phone. */
    @Test
    void zendeskIdsStayReadableToAViewerAndPhoneNumbersAreMasked() {
        String viewer = masking.payload(Samples.text("support/ticket.status_changed.json")
                .replace("\"requester_id\": \"9000000123456\"", "\"requester_id\": 9000000123456, \"note\": \"call 07700900123\""), true);
        assertThat(viewer).contains("\"requester_id\" : 9000000123456", "\"assignee_id\" : \"9000000000001\"", "\"id\" : \"35436\"",
                "call 077…0123").doesNotContain("07700900123");
        assertThat(masking.text("Zendesk user 9000000123456 is not linked to any customer: link it from the event page in the console (ticket 902183417,"
                + " requester phone +447700900123)")).isEqualTo("Zendesk user 9000000123456 is not linked to any customer: link it"
                + " from the event page in the console (ticket 902183417, requester phone +447…0123)");
    }

    @Test
    void aPayloadThatIsNotJsonIsMaskedAsText() {
        assertThat(masking.payload("{\"orderNumber\": \"ORD-broken, mail jo@example.net", true))
                .isEqualTo("{\"orderNumber\": \"ORD-broken, mail j***@example.net");
    }

    @Test
    void aPersonsNameIsMaskedUnderAnyKeyAndAThingsNameStaysReadable() {
        String viewer = masking.payload("""
                {"type": "charge.succeeded", "data": {"object": {"object": "charge", "id": "ch_1",
                   "billing_details": {"name": "Jenny Rosen", "email": null},
                   "shipping": {"name": "Jenny R. Rosen", "carrier": "DHL"},
                   "payment_method_details": {"card": {"brand": "visa", "cardholderName": "J ROSEN"}},
                   "metadata": {"customer_name": "Jenny Rosen", "name": "Jenny Rosen"}}},
                 "customer": {"object": "customer", "name": "Jenny Rosen"}, "name": "Jenny Rosen", "userName": "jrosen",
                 "lines": {"data": [{"object": "line_item", "description": "Pro plan", "price": {"object": "price",
                   "product": {"object": "product", "name": "Pro plan (monthly)"}}}]},
                 "plan": {"name": "Gold"}, "product_name": "Laser printer", "event_name": "invoice.paid"}""", true);
        assertThat(viewer).doesNotContain("Jenny", "Rosen", "ROSEN", "jrosen")
                .contains("\"name\" : \"J•••\"", "\"cardholderName\" : \"J•••\"", "\"customer_name\" : \"J•••\"",
                        "Pro plan (monthly)", "\"name\" : \"Gold\"", "Laser printer", "invoice.paid", "DHL", "visa");
    }

    /** A caller's address on the Rejected webhooks page: its network only, however it is written; nothing readable if it is no address. */
    @Test
    void aCallersAddressShowsItsNetworkOnly() {
        assertThat(masking.networkAddress("198.51.100.23")).isEqualTo("198.51.100.•••");
        assertThat(masking.networkAddress("::ffff:198.51.100.23")).isEqualTo("::ffff:198.51.100.•••");
        assertThat(masking.networkAddress("2001:db8:85a3:0:0:8a2e:370:7334")).isEqualTo("2001:db8:85a3:•••");
        assertThat(masking.networkAddress("2001:db8::7334")).isEqualTo("2001:db8:0:•••");
        assertThat(masking.networkAddress("fe80::1%eth0")).isEqualTo("fe80:0:0:•••");
        assertThat(masking.networkAddress("::1")).isEqualTo("0:0:0:•••");
        assertThat(masking.networkAddress("unknown")).isEqualTo("•••");
        assertThat(masking.networkAddress("1::2::3")).isEqualTo("•••");
        assertThat(masking.networkAddress(null)).isNull();
    }
}
