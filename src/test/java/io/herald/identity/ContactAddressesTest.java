package io.herald.identity;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What the directory may hold as a customer's email address and mobile phone, and what each refusal says. */
class ContactAddressesTest {

    @Test
    void exactlyOneBareEmailAddressCanBeSentTo() {
        assertThat(ContactAddresses.emailProblem("jenny.rosen@example.org")).isNull();
        assertThat(ContactAddresses.emailProblem("jenny+billing@mail.example.co.uk")).isNull();
        assertThat(ContactAddresses.emailProblem(null)).isNull();

        assertThat(ContactAddresses.emailProblem("jenny@example.org, thief@evil.test")).startsWith("it lists several addresses");
        assertThat(ContactAddresses.emailProblem("jenny@example.org;thief@evil.test")).startsWith("it lists several addresses");
        assertThat(ContactAddresses.emailProblem("Jenny <jenny@example.org>")).startsWith("it has a name, quotes or angle brackets");
        assertThat(ContactAddresses.emailProblem("jenny @example.org")).isEqualTo("it contains a space");
        assertThat(ContactAddresses.emailProblem("not an email")).isEqualTo("it contains a space");
        assertThat(ContactAddresses.emailProblem("jenny")).isEqualTo("it is not an address of the form name@example.org");
        assertThat(ContactAddresses.emailProblem("a@b@example.org")).isEqualTo("it is not an address of the form name@example.org");
        assertThat(ContactAddresses.emailProblem("jenny@")).isEqualTo("it is not an address of the form name@example.org");
        assertThat(ContactAddresses.emailProblem("@example.org")).isEqualTo("it is not an address of the form name@example.org");
    }

    @Test
    void aDomainInOtherLettersIsSentToInItsAsciiFormAndANamePartInThemIsRefusedInWords() {
        assertThat(ContactAddresses.emailProblem("jenny@bücher.de")).isNull();
        assertThat(ContactAddresses.sendableEmail("jenny@bücher.de")).isEqualTo("jenny@xn--bcher-kva.de");
        assertThat(ContactAddresses.sendableEmail("jenny@münchen.example.org")).isEqualTo("jenny@xn--mnchen-3ya.example.org");
        assertThat(ContactAddresses.sendableEmail("jenny@example.org")).isEqualTo("jenny@example.org");
        assertThat(ContactAddresses.sendableEmail("jenny@xn--bcher-kva.de")).isEqualTo("jenny@xn--bcher-kva.de");

        assertThat(ContactAddresses.emailProblem("jöhn@example.org")).isEqualTo("the part before the @ has letters outside plain ASCII"
                + " (such as ö), which Herald's mail sending cannot address; ask the customer for an address without them");
        assertThat(ContactAddresses.emailProblem("jenny@bü_cher.de")).isEqualTo("its domain (after the @) is not a valid internet domain name");
        assertThat(ContactAddresses.emailProblem("jenny@" + "ü".repeat(70) + ".de"))
                .isEqualTo("its domain (after the @) is not a valid internet domain name");
    }

    @Test
    void aMobilePhoneIsAnInternationalNumberWrittenAsPeopleWriteIt() {
        assertThat(ContactAddresses.phoneProblem("+447700900123")).isNull();
        assertThat(ContactAddresses.phoneProblem("+44 7700 900123")).isNull();
        assertThat(ContactAddresses.phoneProblem("+1 (556) 123-4567")).isNull();
        assertThat(ContactAddresses.dialable("+1 (556) 123-4567")).isEqualTo("+15561234567");
        assertThat(ContactAddresses.dialable(" +44 7700.900.123 ")).isEqualTo("+447700900123");

        assertThat(ContactAddresses.phoneProblem("07700 900123")).startsWith("it is not an international number");
        assertThat(ContactAddresses.phoneProblem("0044 7700 900123")).startsWith("it is not an international number");
        assertThat(ContactAddresses.phoneProblem("+15551234567,+15559999999")).startsWith("it is not an international number");
        assertThat(ContactAddresses.phoneProblem("+44 (0)7700 900123")).startsWith("it has the national trunk prefix (0)");
        assertThat(ContactAddresses.phoneProblem("+0 123 4567")).startsWith("it is not an international number");
    }
}
