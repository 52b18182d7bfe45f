package io.herald.logging;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MaskingTest {

    @Test
    void masksEmailsAndPhoneNumbersInFreeText() {
        assertThat(Masking.mask("sent to jenny.rosen@example.org and +44 7700 900123"))
                .isEqualTo("sent to j***@example.org and +447…0123");
        assertThat(Masking.mask("SMS to +15555550100 failed")).isEqualTo("SMS to +155…0100 failed");
        assertThat(Masking.mask("call (555) 555-0100")).isEqualTo("call 5555…0100");
    }

    @Test
    void leavesIdsDatesAndFileNamesAlone() {
        String text = "ticket 35436 at 2026-11-21T10:12:44Z offset 1763719200 file /tmp/kafka-12241655760221037745/x";
        assertThat(Masking.mask(text)).isEqualTo(text);
    }
}
