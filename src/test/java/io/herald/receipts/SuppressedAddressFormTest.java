package io.herald.receipts;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A suppression is kept for the address as it is sent: a bounce reported for jenny@xn--bcher-kva.de suppresses the
 * customer whose directory says jenny@Bücher.de, and a STOP from +447700900123 the customer written +44 7700.900 123.
 */
class SuppressedAddressFormTest {

    @Test
    void anAddressIsComparedInTheFormItIsSentIn() {
        assertThat(Suppressions.normalised("email", " Jenny@Bücher.de ")).isEqualTo("jenny@xn--bcher-kva.de");
        assertThat(Suppressions.normalised("email", "jenny@xn--bcher-kva.de")).isEqualTo("jenny@xn--bcher-kva.de");
        assertThat(Suppressions.normalised("email", "Jenny.Rosen@Example.org")).isEqualTo("jenny.rosen@example.org");
        assertThat(Suppressions.normalised("sms", "+44 7700.900 (123)")).isEqualTo("+447700900123");
        assertThat(Suppressions.normalised("sms", "+1 (556) 123-4567")).isEqualTo("+15561234567");
    }
}
