package io.herald.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import io.herald.testsupport.TlsPostgres;

/**
 * A setting Herald cannot use stops startup, and what the operator reads (Spring Boot's failure analysis on the
 * console) names the key, the value and the file it came from; an environment variable is named as such.
 */
@ExtendWith(OutputCaptureExtension.class)
class BadSettingStartupTest {

    /** Only the settings, bound and validated as in Herald (no database, broker or routes needed to see the failure). */
    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties({DeliverySettings.class, SmsSettings.class, CrmSettings.class, ApprovalSettings.class,
            RetentionSettings.class, SchedulingSettings.class, AlertSettings.class, IngestSettings.class, InfrastructureSettings.class,
            MailSettings.class, HeraldSettings.class, ConsoleSettings.class, KafkaSecuritySettings.class, PushSettings.class,
            LoggingSettings.class, TopicSettings.class, io.herald.tracing.TracingSettings.class, HeraldUsers.class,
            io.herald.security.OidcSettings.class, io.herald.security.AppClient.class, HelpdeskSettings.class})
    static class OnlySettings {
    }

    private static ConfigurableApplicationContext start(String... args) {
        SpringApplication application = new SpringApplication(OnlySettings.class);
        application.setWebApplicationType(WebApplicationType.NONE);
        return application.run(args);
    }

    @Test
    void aNegativeIntervalNamesTheKeyTheValueAndTheFile(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/negative-poll.yaml")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START")
                .contains("Property: herald.delivery.parked-poll-ms")
                .contains("Value: \"-5\"")
                .contains("Origin: class path resource [bad-settings/negative-poll.yaml]")
                .contains("Reason: must be greater than 0")
                .contains("Correct herald.delivery.parked-poll-ms where it is set")
                .contains("HERALD_DELIVERY_PARKED_POLL_MS");
    }

    @Test
    void aWordWhereANumberBelongsNamesTheKeyTheValueAndTheFile(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/not-a-number.yaml")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START")
                .contains("Property: herald.delivery.parked-poll-ms")
                .contains("Value: \"abc\"")
                .contains("Origin: class path resource [bad-settings/not-a-number.yaml]")
                .contains("Reason: not a whole number");
    }

    @Test
    void moreThanOneInProcessRetrySaysWhy(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/two-retries.yaml")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.sms.max-retries")
                .contains("Value: \"2\"")
                .contains("Reason: must be 0 or 1: an in-process retry holds its consumer thread");
    }

    /** A push to no device at all is no setting: refused at startup naming the key. */
    @Test
    void aPushDeviceCapBelowOneSaysWhy(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.push.max-devices=0")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.push.max-devices").contains("Value: \"0\"");
    }

    /** Too short a limit would end Herald's own transactions between two statements; refused naming the key. */
    @Test
    void anIdleInTransactionTimeoutBelowFiveSecondsSaysWhy(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.infrastructure.db-idle-in-transaction-timeout-s=1")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.infrastructure.db-idle-in-transaction-timeout-s")
                .contains("Value: \"1\"")
                .contains("Reason: must be at least 5 (seconds), and above the longest wait inside one of Herald's transactions");
    }

    /** A secret read from a file or written with echo keeps its newline: refused at startup naming the key, its value never shown. */
    @Test
    void aSecretWithALineBreakAtItsEndIsRefusedWithoutShowingIt(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.sms.auth-token=tok3n-value-1234\n")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.sms.auth-token")
                .contains("Value: (hidden, as it is a secret)")
                .contains("Reason: starts or ends with a space or line break (a secret written with echo, or read from a file with its"
                        + " newline); remove it where it is set")
                .contains("HERALD_SMS_AUTH_TOKEN")
                .doesNotContain("tok3n-value-1234");
    }

    /** A bare number in a duration is milliseconds to Spring: "24" for herald.approvals.expire-after would expire every approval at once. */
    @Test
    void aDurationWrittenAsABareNumberIsRefusedNamingTheKey(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.approvals.expire-after=24")).isNotNull();
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.retention.payloads=30")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.approvals.expire-after")
                .contains("Reason: " + Durations.AT_LEAST_A_MINUTE)
                .contains("Property: herald.retention.payloads")
                .contains("Reason: " + Durations.AT_LEAST_A_DAY);
    }

    /**
     * Park delays written as bare numbers ("60,300,900", meant as seconds) are milliseconds: an outage would use every park
     * within a second and fail its deliveries for good. Each delay is at least PT1S, named with the list's key.
     */
    @Test
    void aParkDelayBelowASecondIsRefusedNamingTheKey(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.delivery.park-delays=60,300,900")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START")
                .contains("Property: herald.delivery.park-delays")
                .contains("Value: \"60,300,900\"")
                .contains("Reason: item 1 (PT0.06S) " + Durations.AT_LEAST_A_SECOND)
                .contains("Reason: item 3 (PT0.9S) " + Durations.AT_LEAST_A_SECOND)
                .contains("Correct herald.delivery.park-delays where it is set")
                .contains("HERALD_DELIVERY_PARK_DELAYS)");
    }

    @Test
    void aZeroOrNegativeParkDelayIsRefused(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.delivery.park-delays=PT1M,PT-1M,PT0S")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.delivery.park-delays")
                .contains("Reason: item 2 (PT-1M) " + Durations.AT_LEAST_A_SECOND)
                .contains("Reason: item 3 (PT0S) " + Durations.AT_LEAST_A_SECOND)
                .doesNotContain("item 1 (");
    }

    /**
     * A ledger kept shorter than its payloads was named as the setting herald.retention.consistent (the check's method), with
     * HERALD_RETENTION_CONSISTENT to correct: neither exists. It names herald.retention.ledger, its value and where it was set.
     */
    @Test
    void aLedgerKeptShorterThanItsPayloadsNamesTheRealKey(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.retention.ledger=P10D",
                "--herald.retention.payloads=P30D")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.retention.ledger").contains("Value: \"P10D\"")
                .contains("from property source \"commandLineArgs\"")
                .contains("Reason: must be at least herald.retention.payloads (the rows outlive their payloads)")
                .contains("Correct herald.retention.ledger where it is set").contains("HERALD_RETENTION_LEDGER")
                .doesNotContain("herald.retention.consistent").doesNotContain("HERALD_RETENTION_CONSISTENT");
    }

    /** An empty item (two commas in a row) read "item 2 (null) must not be null". */
    @Test
    void anEmptyItemInAListSaysSo(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.delivery.park-delays=PT1M,,PT5M")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.delivery.park-delays")
                .contains("Reason: item 2 is empty (two commas in a row?): give every item a value, or remove it")
                .doesNotContain("(null)");
    }

    @Test
    void aSchedulingPollIntervalWrittenAsABareNumberIsRefused(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.scheduling.poll-interval=2")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.scheduling.poll-interval")
                .contains("Value: \"2\"")
                .contains("Reason: " + Durations.AT_LEAST_A_TENTH_OF_A_SECOND)
                .contains("HERALD_SCHEDULING_POLL_INTERVAL");
    }

    /** "5" meant as seconds is 5 ms to Spring: every event's mapping would be stopped waiting for and quarantined. */
    @Test
    void aMappingTimeLimitWrittenAsABareNumberIsRefusedNamingTheKey(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.ingest.mapping-time-limit=5")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START")
                .contains("Property: herald.ingest.mapping-time-limit")
                .contains("Value: \"5\"")
                .contains("Reason: " + Durations.AT_LEAST_A_SECOND)
                .contains("Correct herald.ingest.mapping-time-limit where it is set")
                .contains("HERALD_INGEST_MAPPING_TIME_LIMIT");
    }

    @Test
    void aSignatureBurstWindowBelowAMinuteIsRefused(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.alerts.signature-burst.window=5")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.alerts.signature-burst.window")
                .contains("Value: \"5\"")
                .contains("Reason: " + Durations.AT_LEAST_A_MINUTE)
                .contains("HERALD_ALERTS_SIGNATURE_BURST_WINDOW");
    }

    /** Below the producers' request.timeout.ms (5000) Kafka refuses them when their routes start, naming no Herald setting. */
    @Test
    void aKafkaSendTimeoutBelowTheRequestTimeoutIsRefusedNamingTheKey(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.infrastructure.kafka-send-timeout-ms=3000")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.infrastructure.kafka-send-timeout-ms")
                .contains("Value: \"3000\"")
                .contains("Reason: must be at least 5000 (milliseconds): it is the Kafka producers' delivery.timeout.ms, which Kafka"
                        + " requires to be at least their request.timeout.ms")
                .contains("HERALD_INFRASTRUCTURE_KAFKA_SEND_TIMEOUT_MS");
    }

    @Test
    void aWebhookDeliveryTimeoutBelowItsRequestTimeoutIsRefusedNamingBothKeys(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.ingest.kafka-delivery-timeout-ms=1500")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.ingest.kafka-delivery-timeout-ms")
                .contains("Reason: must be at least herald.ingest.kafka-request-timeout-ms (2000), was 1500: Kafka refuses a"
                        + " producer whose delivery.timeout.ms is below its request.timeout.ms")
                .contains("HERALD_INGEST_KAFKA_DELIVERY_TIMEOUT_MS");
    }

    /**
     * A producer limit that leaves no room for a body at the webhook limit was refused when the webhook filter was built,
     * saying "(config/application.yaml)" wherever it was set; it is a settings check now, with the value's origin.
     */
    @Test
    void aProducerLimitWithNoRoomForABodyAtTheLimitShowsWhereItWasSet(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.ingest.kafka-max-request-size=1048576")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.ingest.kafka-max-request-size")
                .contains("Value: \"1048576\"").contains("from property source \"commandLineArgs\"")
                .contains("Reason: must be at least herald.ingest.max-body-bytes (1048576) + 65536 bytes, was 1048576: a webhook body"
                        + " near the limit could never be queued")
                .doesNotContain("config/application.yaml");
    }

    /** As above for the helpdesk's note lease against its longest post (it was checked when the ticket notes bean was built). */
    @Test
    void aHelpdeskLeaseShorterThanTheLongestPostShowsWhereItWasSet(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.helpdesk.enabled=true",
                "--herald.helpdesk.url=https://acme.zendesk.example", "--herald.helpdesk.email=agent@acme.example",
                "--herald.helpdesk.api-token=t0ken", "--herald.helpdesk.connect-timeout-ms=5000",
                "--herald.helpdesk.response-timeout-ms=20000", "--herald.helpdesk.lease-ms=30000")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.helpdesk.lease-ms")
                .contains("Value: \"30000\"").contains("from property source \"commandLineArgs\"")
                .contains("Reason: must be more than the longest post, 2 x herald.helpdesk.connect-timeout-ms + response-timeout-ms"
                        + " (30000 ms), plus 5000 ms to record it, or another instance may take a note over while it is being posted"
                        + " and post it again; was 30000")
                .doesNotContain("config/application.yaml");
    }

    /** A value that is not one of a setting's choices lists them (it said "cannot be read as Tls"). */
    @Test
    void aChoiceSettingListsItsChoices(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.mail.tls=tls")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.mail.tls")
                .contains("Reason: must be one of none, opportunistic, starttls, ssl").contains("HERALD_MAIL_TLS");
    }

    /**
     * herald.mail.helo-name is sent in EHLO as it is: a name with spaces or characters no host name has would make the relay
     * refuse every email, so it is refused at startup naming the key and the file; a fully qualified name starts.
     */
    @Test
    void aHeloNameNoHostCouldHaveIsRefusedNamingTheKeyAndTheFile(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/helo-name-with-spaces.yaml")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START")
                .contains("Property: herald.mail.helo-name")
                .contains("Value: \"herald pod 1\"")
                .contains("Origin: class path resource [bad-settings/helo-name-with-spaces.yaml]")
                .contains("Reason: must be a host name such as herald.example.com")
                .contains("HERALD_MAIL_HELO_NAME");
        for (String name : new String[] {"herald.example.com", "[192.0.2.1]", ""}) {
            start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.mail.helo-name=" + name).close();
        }
    }

    /**
     * A relay login with the default opportunistic TLS is refused at startup: the password would go to a server whose
     * certificate is not checked, or in clear once a listener strips STARTTLS. With starttls, ssl or none it starts.
     */
    @Test
    void aMailLoginWithOpportunisticTlsIsRefusedNamingBothKeys(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.mail.username=relay-user",
                "--herald.mail.password=relay-secret")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START")
                .contains("Property: herald.mail.tls")
                .contains("Reason: is opportunistic while herald.mail.username is set: the SMTP password would go to a server"
                        + " whose certificate is not checked, or in clear if STARTTLS is stripped on the way")
                .contains("set herald.mail.tls to starttls (port 587) or ssl (port 465)")
                .contains("HERALD_MAIL_TLS")
                .doesNotContain("relay-secret");
        for (String tls : new String[] {"starttls", "ssl", "none"}) {
            start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.mail.username=relay-user",
                    "--herald.mail.password=relay-secret", "--herald.mail.tls=" + tls).close();
        }
    }

    /**
     * A Kafka login without its password, a login or a certificate the chosen protocol would not use, and a truststore that is
     * not there each stop startup naming the key (without them Herald would only find a broker that never answers, or connect
     * without the login the operator meant); a complete SASL_SSL login starts.
     */
    @Test
    void aKafkaLoginThatCannotWorkIsRefusedNamingTheKey(CapturedOutput output, @org.junit.jupiter.api.io.TempDir java.nio.file.Path folder)
            throws Exception {
        String valid = "--spring.config.location=classpath:bad-settings/valid.yaml";
        assertThatThrownBy(() -> start(valid, "--herald.kafka.security.protocol=sasl_ssl", "--herald.kafka.security.username=api-key"))
                .isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.kafka.security.password")
                .contains("Reason: must be set when herald.kafka.security.protocol is sasl_ssl").contains("HERALD_KAFKA_SECURITY_PASSWORD");
        assertThatThrownBy(() -> start(valid, "--herald.kafka.security.username=api-key", "--herald.kafka.security.password=api-secret"))
                .isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.kafka.security.username")
                .contains("Reason: is set while herald.kafka.security.protocol is plaintext, which has no login").doesNotContain("api-secret");
        assertThatThrownBy(() -> start(valid, "--herald.kafka.security.protocol=SASL_SSL", "--herald.kafka.security.username=api-key",
                "--herald.kafka.security.password=api-secret", "--herald.kafka.security.truststore-file=/no/such/ca.pem")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.kafka.security.truststore-file")
                .contains("Reason: names /no/such/ca.pem, which is not a file Herald can read");
        assertThatThrownBy(() -> start(valid, "--herald.kafka.security.protocol=sasl_ssl", "--herald.kafka.security.sasl-mechanism=gssapi",
                "--herald.kafka.security.username=api-key", "--herald.kafka.security.password=api-secret")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.kafka.security.sasl-mechanism")
                .contains("must be one of plain, scram-sha-256, scram-sha-512");
        // Listed as Kafka and the README write them (sasl_ssl), not as the other choices are (scram-sha-256).
        assertThatThrownBy(() -> start(valid, "--herald.kafka.security.protocol=sasl-tls")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.kafka.security.protocol")
                .contains("must be one of plaintext, ssl, sasl_ssl, sasl_plaintext");
        java.nio.file.Path ca = folder.resolve("ca.pem");
        keytool(folder, "-exportcert", "-rfc", "-alias", "herald", "-keystore", keystore(folder, "store-pass").toString(), "-storepass",
                "store-pass", "-file", ca.toString());
        start(valid, "--herald.kafka.security.protocol=sasl_ssl", "--herald.kafka.security.sasl-mechanism=SCRAM-SHA-512",
                "--herald.kafka.security.username=api-key", "--herald.kafka.security.password=api-secret",
                "--herald.kafka.security.truststore-file=" + ca).close();
    }

    /**
     * Kafka's clients refuse a .p12, .pfx or .jks keystore given without its password: Herald started and every Kafka client
     * (routes, topics, readiness) then failed on Kafka's own words. It stops startup naming the key; a .pem keystore without
     * one (an unencrypted key) and a .jks truststore without one start.
     */
    @Test
    void aKafkaKeystoreWithoutItsPasswordStopsStartupNamingTheKey(CapturedOutput output,
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        String valid = "--spring.config.location=classpath:bad-settings/valid.yaml";
        String ssl = "--herald.kafka.security.protocol=ssl";
        java.nio.file.Path keystore = java.nio.file.Files.writeString(folder.resolve("herald.p12"), "not read here");
        assertThatThrownBy(() -> start(valid, ssl, "--herald.kafka.security.keystore-file=" + keystore)).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.kafka.security.keystore-password")
                .contains("Reason: must be set when herald.kafka.security.keystore-file is a .p12, .pfx or .jks file")
                .contains("HERALD_KAFKA_SECURITY_KEYSTORE_PASSWORD");
        java.nio.file.Path certificate = folder.resolve("ca.crt");
        keytool(folder, "-exportcert", "-rfc", "-alias", "herald", "-keystore", keystore(folder, "store-pass").toString(), "-storepass",
                "store-pass", "-file", certificate.toString());
        java.nio.file.Path truststore = folder.resolve("ca.jks");
        keytool(folder, "-importcert", "-noprompt", "-alias", "ca", "-file", certificate.toString(), "-storetype", "JKS", "-keystore",
                truststore.toString(), "-storepass", "made-with-one");
        start(valid, ssl, "--herald.kafka.security.truststore-file=" + truststore).close();
    }

    /**
     * A client certificate's keystore that Kafka's clients cannot open (a wrong keystore-password, a .pem whose key is not in
     * the PKCS#8 form Kafka reads) started, and readiness then said "Kafka did not answer" while the topics' warning showed
     * Kafka's "Failed to create new KafkaAdminClient", retried for ever. It stops startup naming the key, in words; the same
     * keystore with its right password starts.
     */
    @Test
    void aKafkaKeystoreKafkaCannotOpenStopsStartupNamingTheKey(CapturedOutput output,
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        String valid = "--spring.config.location=classpath:bad-settings/valid.yaml";
        String ssl = "--herald.kafka.security.protocol=ssl";
        java.nio.file.Path keystore = keystore(folder, "right-pass");
        assertThatThrownBy(() -> start(valid, ssl, "--herald.kafka.security.keystore-file=" + keystore,
                "--herald.kafka.security.keystore-password=wrong-pass")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.kafka.security.keystore-file")
                .contains("Reason: names " + keystore + ", which Kafka's clients cannot open with herald.kafka.security.keystore-password")
                .doesNotContain("wrong-pass");
        java.nio.file.Path pkcs1 = java.nio.file.Files.writeString(folder.resolve("herald.pem"),
                "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n");
        assertThatThrownBy(() -> start(valid, ssl, "--herald.kafka.security.keystore-file=" + pkcs1)).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Reason: names " + pkcs1 + ", which Kafka's clients cannot open");
        start(valid, ssl, "--herald.kafka.security.keystore-file=" + keystore, "--herald.kafka.security.keystore-password=right-pass").close();
    }

    /**
     * Kafka's clients refuse a .pem truststore given with a password ("SSL trust store password cannot be specified for PEM
     * format"): Herald started and every Kafka client failed. It stops startup naming the key, without showing the password.
     */
    @Test
    void aKafkaPemTruststoreWithAPasswordStopsStartupNamingTheKey(CapturedOutput output,
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        java.nio.file.Path ca = java.nio.file.Files.writeString(folder.resolve("ca.crt"), "-----BEGIN CERTIFICATE-----\n");
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.kafka.security.protocol=ssl",
                "--herald.kafka.security.truststore-file=" + ca, "--herald.kafka.security.truststore-password=changeit")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.kafka.security.truststore-password")
                .contains("Reason: is set while herald.kafka.security.truststore-file is a .pem or .crt file, which has no password")
                .doesNotContain("changeit");
    }

    /**
     * PostgreSQL over TLS, as a managed database asks for it. A mode the driver does not know (misspelt in the setting or in
     * the URL, as the providers' instructions have it written there), a CA file that is not there or holds no certificate,
     * and a CA file with a mode that would not use it stop startup naming the key: before, herald.db.ssl-mode was "a setting
     * Herald does not have", and the same mistakes written into herald.db.url started and then stopped at Flyway's first
     * connection with the driver's stack trace ("Invalid sslmode value", "Could not open SSL root certificate file"), or, for
     * a CA file without verify-full, started without checking the certificate at all. A complete verify-full starts.
     */
    @Test
    void aPostgresTlsSettingThatCannotWorkIsRefusedNamingTheKey(CapturedOutput output, @org.junit.jupiter.api.io.TempDir java.nio.file.Path folder)
            throws Exception {
        String valid = "--spring.config.location=classpath:bad-settings/valid.yaml";
        String url = "jdbc:postgresql://db.example.internal:5432/herald";
        assertThatThrownBy(() -> start(valid, "--herald.db.url=" + url, "--herald.db.ssl-mode=verify-ful")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.db.ssl-mode")
                .contains("Reason: must be one of disable, allow, prefer, require, verify-ca, verify-full").contains("HERALD_DB_SSL_MODE");
        assertThatThrownBy(() -> start(valid, "--herald.db.url=" + url + "?sslmode=verify_full")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.db.url")
                .contains("Reason: sets sslmode=verify_full, which PostgreSQL's driver does not know: write one of disable, allow, prefer,"
                        + " require, verify-ca, verify-full");
        assertThatThrownBy(() -> start(valid, "--herald.db.url=" + url, "--herald.db.ssl-mode=verify-full",
                "--herald.db.ssl-root-cert=/no/such/rds-ca.pem")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.db.ssl-root-cert")
                .contains("Reason: names /no/such/rds-ca.pem, which is not a file Herald can read").contains("HERALD_DB_SSL_ROOT_CERT");
        java.nio.file.Path ca = java.nio.file.Files.writeString(folder.resolve("ca.pem"), TlsPostgres.UNRELATED_CA);
        assertThatThrownBy(() -> start(valid, "--herald.db.url=" + url, "--herald.db.ssl-root-cert=" + ca)).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.db.ssl-root-cert")
                .contains("Reason: names " + ca + " while herald.db.ssl-mode is prefer (the driver's default), which does not check"
                        + " PostgreSQL's certificate");
        start(valid, "--herald.db.url=" + url, "--herald.db.ssl-mode=verify-full", "--herald.db.ssl-root-cert=" + ca).close();
        // The same checks, without a start each: the URL's CA file, a file that holds no certificate, one mode in two places.
        assertThatThrownBy(() -> DatabaseTls.check(url + "?sslmode=verify-full&sslrootcert=/no/such/rds-ca.pem", null, ""))
                .hasMessageStartingWith("herald.db.url sets sslrootcert=/no/such/rds-ca.pem, which is not a file Herald can read");
        java.nio.file.Path page = java.nio.file.Files.writeString(folder.resolve("global-bundle.pem"), "<html>Access denied</html>\n");
        assertThatThrownBy(() -> DatabaseTls.check(url, DatabaseTls.SslMode.VERIFY_FULL, page.toString()))
                .hasMessageStartingWith("herald.db.ssl-root-cert names " + page + ", which holds no certificate Herald can read");
        assertThatThrownBy(() -> DatabaseTls.check(url + "?sslmode=require", DatabaseTls.SslMode.VERIFY_FULL, ca.toString()))
                .hasMessageStartingWith("herald.db.ssl-mode is verify-full while herald.db.url sets sslmode=require");
        DatabaseTls.check(url + "?sslmode=verify-full&sslrootcert=" + ca, null, "");
    }

    /**
     * The URL's TLS mode read as PostgreSQL's driver reads it: sslmode in any case (the driver takes sslmode=REQUIRE or
     * Verify-Full), and ssl=true (or a bare ssl) without sslmode, which the driver takes as verify-full. Before, a URL with
     * sslmode=REQUIRE that had always connected stopped startup as "a mode the driver does not know", a URL with ssl=true and
     * the CA file in herald.db.ssl-root-cert was refused as "prefer, which does not check the certificate", and a URL with
     * ssl=true alone was not given the JVM's trusted CAs, so every connection failed looking for ~/.postgresql/root.crt.
     */
    @Test
    void thePostgresUrlsTlsModeIsReadAsTheDriverReadsIt(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        String valid = "--spring.config.location=classpath:bad-settings/valid.yaml";
        String url = "jdbc:postgresql://db.example.internal:5432/herald";
        java.nio.file.Path ca = java.nio.file.Files.writeString(folder.resolve("global bundle.pem"), TlsPostgres.UNRELATED_CA + TlsPostgres.UNRELATED_CA);
        start(valid, "--herald.db.url=" + url + "?ApplicationName=herald&sslmode=REQUIRE").close();
        start(valid, "--herald.db.url=" + url + "?sslmode=Verify-Full", "--herald.db.ssl-mode=verify-full",
                "--herald.db.ssl-root-cert=" + ca).close();
        start(valid, "--herald.db.url=" + url + "?ssl=true", "--herald.db.ssl-root-cert=" + ca).close();
        DatabaseTls.check(url + "?ssl", null, ca.toString());
        assertThat(DatabaseTls.driverProperties(new HeraldSettings.Db(url + "?ssl=true", "herald", "", null, "")))
                .containsEntry("sslfactory", DatabaseTls.JVM_TRUSTED_CAS);
        assertThat(DatabaseTls.driverProperties(new HeraldSettings.Db(url + "?sslmode=VERIFY-CA", "herald", "", null, "")))
                .containsEntry("sslfactory", DatabaseTls.JVM_TRUSTED_CAS);
        assertThat(DatabaseTls.driverProperties(new HeraldSettings.Db(url + "?ssl=false", "herald", "", null, ""))).isEmpty();
        assertThatThrownBy(() -> DatabaseTls.check(url + "?ssl=false", null, ca.toString()))
                .hasMessageContaining("while herald.db.ssl-mode is prefer (the driver's default)");
    }

    /** A PKCS12 keystore holding a key and its certificate (CN=herald), made with the JDK's keytool. */
    private static java.nio.file.Path keystore(java.nio.file.Path folder, String password) throws Exception {
        java.nio.file.Path keystore = java.nio.file.Files.createTempDirectory(folder, "keystore").resolve("herald.p12");
        keytool(folder, "-genkeypair", "-alias", "herald", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2", "-dname", "CN=herald",
                "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", password);
        return keystore;
    }

    private static void keytool(java.nio.file.Path folder, String... args) throws Exception {
        java.util.List<String> command = new java.util.ArrayList<>(
                java.util.List.of(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(java.util.List.of(args));
        Process keytool = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(folder.resolve("keytool.log").toFile())).start();
        assertThat(keytool.waitFor(1, java.util.concurrent.TimeUnit.MINUTES) && keytool.exitValue() == 0).isTrue();
    }

    /**
     * A truststore Kafka's clients cannot read (a .crt in binary DER form, as many certificate downloads are) started, and every
     * Kafka client then failed, readiness saying "Kafka did not answer". It stops startup naming the key, in words; the same
     * certificate as PEM text starts.
     */
    @Test
    void aKafkaTruststoreKafkaCannotReadStopsStartupNamingTheKey(CapturedOutput output,
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        java.nio.file.Path keystore = keystore(folder, "store-pass");
        java.nio.file.Path der = folder.resolve("ca.crt");
        keytool(folder, "-exportcert", "-alias", "herald", "-keystore", keystore.toString(), "-storepass", "store-pass", "-file", der.toString());
        String valid = "--spring.config.location=classpath:bad-settings/valid.yaml";
        assertThatThrownBy(() -> start(valid, "--herald.kafka.security.protocol=ssl", "--herald.kafka.security.truststore-file=" + der))
                .isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.kafka.security.truststore-file")
                .contains("Reason: names " + der + ", which Kafka's clients cannot open");
        java.nio.file.Path pem = folder.resolve("ca.pem");
        keytool(folder, "-exportcert", "-rfc", "-alias", "herald", "-keystore", keystore.toString(), "-storepass", "store-pass",
                "-file", pem.toString());
        start(valid, "--herald.kafka.security.protocol=ssl", "--herald.kafka.security.truststore-file=" + pem).close();
    }

    /**
     * A sender without a domain (notifications, Herald &lt;notifications&gt;) started, and every Message-ID ended in @localhost,
     * which spam filters score badly (most relays refuse such a sender anyway). It stops startup naming the key and its
     * environment variable; an address with a domain starts.
     */
    @Test
    void aMailSenderWithoutADomainIsRefusedNamingTheKey(CapturedOutput output) {
        for (String from : new String[] {"notifications", "Herald <notifications>"}) {
            assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.mail.from=" + from))
                    .as(from).isNotNull();
        }
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START")
                .contains("Property: herald.mail.from")
                .contains("Reason: must be a sender address with a domain after its @ (the domain every Message-ID ends in); was 'notifications'")
                .contains("was 'Herald <notifications>'")
                .contains("HERALD_MAIL_FROM");
        start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.mail.from=Herald <notifications@example.com>").close();
    }

    /**
     * A log format Herald does not have (herald.logging.format: xml, herald.logging.json-format: xml) stopped startup with
     * "Logging system failed to initialize", Logback's stack trace and no settings box at all (the box is logged, and the
     * logging was what failed); the one line naming the key said config/application.yaml wherever it was set. It is refused
     * like any other setting: the key, the value, where it was set and the choices.
     */
    @Test
    void aLogFormatHeraldDoesNotHaveNamesTheKeyAndWhereItWasSet(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.logging.format=xml"))
                .isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START")
                .contains("Property: herald.logging.format").contains("Value: \"xml\"")
                .contains("from property source \"commandLineArgs\"").contains("Reason: must be text or json")
                .contains("HERALD_LOGGING_FORMAT")
                .doesNotContain("Logging system failed to initialize").doesNotContain("IllegalStateException");
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.logging.format=json",
                "--herald.logging.json-format=xml")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.logging.json-format")
                .contains("Reason: must be ecs, logstash or gelf").contains("HERALD_LOGGING_JSON_FORMAT")
                .doesNotContain("Logging system failed to initialize").doesNotContain("IllegalStateException")
                .doesNotContain("IllegalArgumentException");
    }

    /**
     * A topic retention under a day was refused only when the topics were declared, after the database pool and Flyway, and
     * its message named config/application.yaml wherever the value was set. It is refused with the other settings, before
     * anything connects, naming the key, the value and where it was set.
     */
    @Test
    void aTopicRetentionUnderADayIsRefusedWithTheSettings(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.topics.retention=PT1H"))
                .isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START")
                .contains("Property: herald.topics.retention").contains("Value: \"PT1H\"")
                .contains("from property source \"commandLineArgs\"")
                .contains("Reason: must be at least a day (P1D): the broker deletes a record not read within it")
                .contains("HERALD_TOPICS_RETENTION");
        start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.topics.retention=P1D").close();
    }

    /**
     * A sampling ratio outside 0 to 1 was refused saying it was "in config/application.yaml" wherever it was set, without the
     * value's origin; it now shows where it was set like any other setting.
     */
    @Test
    void aSamplingRatioOutsideZeroToOneShowsWhereItWasSet(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.tracing.sampling-ratio=2.5"))
                .isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.tracing.sampling-ratio").contains("Value: \"2.5\"")
                .contains("from property source \"commandLineArgs\"")
                .contains("Reason: must be a share between 0 and 1").contains("HERALD_TRACING_SAMPLING_RATIO")
                .doesNotContain("in config/application.yaml");
        start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.tracing.sampling-ratio=0.1").close();
    }

    /**
     * A value given to a group of settings, a list or a map (HERALD_DELIVERY_TIMEOUTS=5000, HERALD_SECURITY_USERS=admin,
     * role-mapping: "admins=ADMIN") read "Reason: cannot be used: No converter found capable of converting from type
     * [java.lang.String] to type [@jakarta.validation.Valid … DeliverySettings$Timeouts]". It says in words what the key is
     * and which keys to set.
     */
    @Test
    void aValueGivenToAGroupListOrMapSaysWhichKeysToSet(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.delivery.timeouts=5000"))
                .isNotNull();
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.security.users=admin"))
                .isNotNull();
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.security.oidc.role-mapping=admins=ADMIN")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.delivery.timeouts")
                .contains("Reason: is a group of settings, not one value: set herald.delivery.timeouts.connect-ms,"
                        + " herald.delivery.timeouts.response-ms")
                .contains("Property: herald.security.users")
                .contains("Reason: is a list, not one value: set each item's settings, herald.security.users[0].username,"
                        + " herald.security.users[0].password, herald.security.users[0].role (HERALD_SECURITY_USERS_0_USERNAME, …)")
                .contains("Property: herald.security.oidc.role-mapping")
                .contains("Reason: is a map, not one value: set each entry as its own key, herald.security.oidc.role-mapping.<name>")
                .doesNotContain("No converter found").doesNotContain("jakarta.validation").doesNotContain("cannot be used:");
    }

    /**
     * The settings bound at herald itself (herald.db.*, herald.http.*, the files) are named like the others: they were left to
     * Spring Boot's own analysis (camelCase, no environment variable), and a URL that is not JDBC failed later, in the pool.
     */
    @Test
    void aDatabaseUrlThatIsNotJdbcNamesTheKey(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.db.url=postgres://herald@db.example.internal:5432/herald")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.db.url")
                .contains("Reason: must be a PostgreSQL JDBC URL such as jdbc:postgresql://db.example.internal:5432/herald")
                .contains("HERALD_DB_URL");
    }

    /** A provider's or the console's address without its scheme started, and every SMS failed or every alert link was broken. */
    @Test
    void anAddressThatIsNotAWebAddressIsRefusedNamingTheKey(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml", "--herald.sms.url=not-a-url")).isNotNull();
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.console.base-url=herald.example.org")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.sms.url", "Value: \"not-a-url\"",
                "Property: herald.console.base-url", "Value: \"herald.example.org\"",
                "Reason: must be an http:// or https:// address with a host").contains("HERALD_CONSOLE_BASE_URL");
    }

    /** What a web address setting takes: a name, an IPv4 or a bracketed IPv6 address, a port, any case of scheme; not a bare port. */
    @Test
    void aWebAddressNeedsASchemeAndAHost() {
        assertThat(java.util.List.of("", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json", "http://localhost:8089/x",
                "HTTPS://Hooks.Example.com", "http://10.0.0.7:8080", "https://[::1]:8443/v1/send?x=1"))
                .allSatisfy(url -> assertThat(url).matches(WebAddresses.HTTP));
        assertThat(java.util.List.of("not-a-url", "herald.example.org", "https://:8080", "ftp://example.org", " https://example.org",
                "https://user:secret@example.org", "https://exa mple.org"))
                .allSatisfy(url -> assertThat(url).doesNotMatch(WebAddresses.HTTP));
    }

    /** Herald's own startup checks (here the catalog's) are shown in the failure box, not one "Caused by" deep in a trace. */
    @Test
    void aStartupCheckIsShownInTheFailureBox(CapturedOutput output, @org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        java.nio.file.Path catalog = java.nio.file.Files.writeString(folder.resolve("catalog.yaml"), """
                notifications:
                  billing.payment_failed:
                    category: billing
                    priority: high
                    channels: [email, fax]
                    window: PT1H
                """);
        SpringApplication application = new SpringApplication(OnlySettings.class, WithCatalog.class);
        application.setWebApplicationType(WebApplicationType.NONE);
        assertThatThrownBy(() -> application.run("--spring.config.location=classpath:bad-settings/valid.yaml", "--test.catalog=" + catalog))
                .isNotNull();
        String printed = output.getOut() + output.getErr();
        assertThat(printed).contains("APPLICATION FAILED TO START").contains("Herald cannot start:").contains("fax");
        String box = printed.substring(printed.indexOf("APPLICATION FAILED TO START"));
        assertThat(box).contains(catalog.toString()).contains("Correct what it names");
    }

    @Configuration(proxyBeanMethods = false)
    static class WithCatalog {
        @org.springframework.context.annotation.Bean
        io.herald.notification.NotificationCatalog catalog(org.springframework.core.env.Environment environment) {
            return new io.herald.notification.NotificationCatalog(environment.getProperty("test.catalog"));
        }
    }

    /** The shipped values pass: the checks above refuse only what Kafka or Herald cannot use. */
    @Test
    void theShippedTimeoutsAndDurationsStart() {
        start("--spring.config.location=classpath:bad-settings/valid.yaml,file:./config/application.yaml,file:./config/application-local.yaml",
                "--herald.scheduling.poll-interval=PT0.2S",
                "--herald.providers.base-url=http://localhost:8089").close();   // as LocalHerald sets it, for the sandbox's addresses
    }

    /** A check a settings record makes itself (a time zone Java does not know) still names the key and says what it takes. */
    @Test
    void aTimeZoneJavaDoesNotKnowNamesTheKey(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.scheduling.default-time-zone=Europe/Londres")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.scheduling.default-time-zone")
                .contains("Reason: must be a time zone id such as Europe/London or UTC, was 'Europe/Londres'")
                .contains("HERALD_SCHEDULING_DEFAULT_TIME_ZONE");
    }

    /**
     * The prod profile blanks herald.mail.from and herald.mail.port: left unset, application.yaml's defaults (a herald.local
     * sender, port 25) would have passed the required check and mail would have gone out from @herald.local.
     */
    @Test
    void theProdProfileWithoutTheMailSenderAndPortNamesBoth() throws Exception {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("--spring.profiles.active=prod"));
        for (String required : ComposeAndKubernetesTest.prodRequiredSettings()) {
            String property = required.split("\\|")[0].strip();
            if (!property.equals("herald.mail.from") && !property.equals("herald.mail.port")) {
                args.add("--" + property + "=set-by-the-test");
            }
        }
        // config/application.yaml and config/application-prod.yaml, read from the working directory as in the container
        assertThatThrownBy(() -> start(args.toArray(String[]::new))).isInstanceOf(IllegalStateException.class)
                .hasMessage("Herald cannot start: missing required settings herald.mail.port (environment variable HERALD_MAIL_PORT),"
                        + " herald.mail.from (environment variable HERALD_MAIL_FROM). They are listed under 'herald.required-settings' in"
                        + " config/application-prod.yaml; set them in the environment.");
    }

    /**
     * A setting no profile requires but the Secret ships as a placeholder (the mail relay's login) stops startup too: applied
     * unedited, the relay would refuse the login and every email would fail.
     */
    @Test
    void anOptionalSettingLeftAsThePlaceholderStopsTheProdProfile() throws Exception {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("--spring.profiles.active=prod",
                "--herald.mail.username=change-me", "--herald.mail.password=change-me", "--herald.mail.tls=starttls"));
        for (String required : ComposeAndKubernetesTest.prodRequiredSettings()) {
            args.add("--" + required.split("\\|")[0].strip() + "=set-by-the-test");
        }
        assertThatThrownBy(() -> start(args.toArray(String[]::new))).isInstanceOf(IllegalStateException.class)
                .hasMessage("Herald cannot start: missing required settings environment variable HERALD_MAIL_PASSWORD (still the placeholder"
                        + " 'change-me' of deploy/kubernetes/secret.yaml or configmap.yaml), environment variable HERALD_MAIL_USERNAME (still"
                        + " the placeholder 'change-me' of deploy/kubernetes/secret.yaml or configmap.yaml). They are listed under"
                        + " 'herald.required-settings' in config/application-prod.yaml; set them in the environment.");
    }

    /**
     * HERALD_ROUTES naming a folder that is not there, or files that are not in it, names the setting: it stopped with
     * Camel's "NoSuchFileException: rotues" in a stack trace, after the database had been migrated.
     */
    @Test
    void routeFilesThatAreNotThereNameTheSetting(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.routes=file:rotues/*.camel.yaml")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.routes")
                .contains("Reason: names route files in the folder rotues, which is not there")
                .contains("Correct herald.routes where it is set").contains("HERALD_ROUTES");
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.routes=file:routes/*.camel.yml")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Reason: matches no file in ")
                .contains("(file:routes/*.camel.yml)");
    }

    @Test
    void aCommandLineValueIsNamedAsSuch(CapturedOutput output) {
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--herald.crm.outbox-table=crm_outbox; DROP TABLE customer")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.crm.outbox-table")
                .contains("from property source \"commandLineArgs\"")
                .contains("Reason: must be a table name, optionally with its schema (crm.crm_outbox)");
    }

    @Test
    void aFileOnDiskIsNamedByItsPath(CapturedOutput output) {
        // as config/application-prod.yaml is read in the container: a file beside the jar, not a class path resource
        assertThatThrownBy(() -> start("--spring.config.location=file:./src/test/resources/bad-settings/negative-poll.yaml")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.delivery.parked-poll-ms")
                .contains("Origin: URL [file:src/test/resources/bad-settings/negative-poll.yaml] - 3:21");
    }

    /** Herald started with these environment variables in place of the real ones, as a container sets them. */
    private static ConfigurableApplicationContext startWithVariables(java.util.Map<String, String> variables, Class<?>[] sources,
                                                                     String... args) {
        org.springframework.core.env.StandardEnvironment environment = new org.springframework.core.env.StandardEnvironment();
        environment.getPropertySources().replace(org.springframework.core.env.StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new org.springframework.core.env.SystemEnvironmentPropertySource(
                        org.springframework.core.env.StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, java.util.Map.copyOf(variables)));
        SpringApplication application = new SpringApplication(sources);
        application.setWebApplicationType(WebApplicationType.NONE);
        application.setEnvironment(environment);
        return application.run(args);
    }

    /**
     * An OTLP endpoint that is no web address, set as an environment variable, was refused naming "config/application.yaml
     * (HERALD_TRACING_OTLP_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT)" and no origin. It is refused with the other settings,
     * showing the value and the variable it came from.
     */
    @Test
    void anOtlpEndpointThatIsNoWebAddressNamesTheVariableItCameFrom(CapturedOutput output) {
        assertThatThrownBy(() -> startWithVariables(java.util.Map.of("HERALD_TRACING_OTLP_ENDPOINT", "otel-collector:4318"),
                new Class<?>[] {OnlySettings.class}, "--spring.config.location=classpath:bad-settings/valid.yaml")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START")
                .contains("Property: herald.tracing.otlp-endpoint").contains("Value: \"otel-collector:4318\"")
                .contains("Origin: System Environment Property \"HERALD_TRACING_OTLP_ENDPOINT\"")
                .contains("Reason: must be the collector's OTLP/HTTP base URL")
                .doesNotContain("config/application.yaml");
        startWithVariables(java.util.Map.of("HERALD_TRACING_OTLP_ENDPOINT", "http://otel-collector:4318"),
                new Class<?>[] {OnlySettings.class}, "--spring.config.location=classpath:bad-settings/valid.yaml").close();
    }

    /**
     * A provider timeout of 0 (wait for ever) set as an environment variable was refused as "provider timeouts in
     * config/application.yaml (or the environment variables of the same names)": the operator looked in the file, where the
     * value was fine. The refusal names the variable that set it.
     */
    @Test
    void aProviderTimeoutSetInTheEnvironmentIsNamedAsSuch(CapturedOutput output) {
        assertThatThrownBy(() -> startWithVariables(java.util.Map.of("HERALD_SMS_RESPONSE_TIMEOUT_MS", "0"),
                new Class<?>[] {OnlySettings.class, io.herald.dispatch.ProviderTimeouts.class},
                "--spring.config.location=classpath:bad-settings/valid.yaml,file:./config/application.yaml")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START")
                .contains("herald.sms.response-timeout-ms (environment variable HERALD_SMS_RESPONSE_TIMEOUT_MS) must be a number of"
                        + " milliseconds above 0")
                .doesNotContain("config/application.yaml (or");
    }

    /**
     * The in-app client's key and the OIDC settings were checked when the security configuration was built, and refused as
     * "config/application.yaml (or HERALD_SECURITY_APP_API_KEY)" / "(or HERALD_SECURITY_OIDC_*)" wherever they were set.
     * They are checked with the other settings: the box names the key and the variable or profile file that set it, never
     * the in-app key's value.
     */
    @Test
    void theInAppKeyAndTheOidcRoleMappingNameWhereTheyWereSet(CapturedOutput output) {
        assertThatThrownBy(() -> startWithVariables(java.util.Map.of("HERALD_SECURITY_APP_API_KEY", "short-k3y"),
                new Class<?>[] {OnlySettings.class}, "--spring.config.location=classpath:bad-settings/valid.yaml")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.security.app.api-key")
                .contains("Value: (hidden, as it is a secret)")
                .contains("Origin: System Environment Property \"HERALD_SECURITY_APP_API_KEY\"")
                .contains("Reason: must be at least 32 characters").doesNotContain("short-k3y");
        assertThatThrownBy(() -> start("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--spring.config.additional-location=classpath:bad-settings/profiles/", "--spring.profiles.active=sso")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("Property: herald.security.oidc.role-mapping[herald-admins]")
                .contains("Value: \"ROOT\"")
                .contains("Origin: class path resource [bad-settings/profiles/application-sso.yaml]")
                .contains("Reason: must be one of VIEWER, OPERATOR, ADMIN, APP, APPROVER")
                .doesNotContain("config/application.yaml (or");
        startWithVariables(java.util.Map.of("HERALD_SECURITY_APP_API_KEY", "0123456789abcdef0123456789abcdef"),
                new Class<?>[] {OnlySettings.class}, "--spring.config.location=classpath:bad-settings/valid.yaml",
                "--spring.config.additional-location=classpath:bad-settings/profiles/", "--spring.profiles.active=sso",
                "--herald.security.oidc.role-mapping[herald-admins]=admin").close();
    }

    /**
     * A replication factor no Kafka can have (HERALD_TOPICS_REPLICATION_FACTOR=40000) passed the settings and was refused only
     * when the topics were declared, after the database pool and Flyway, naming "config/application.yaml" whatever set it.
     * It is refused with the other settings, naming the variable that set it.
     */
    @Test
    void aReplicationFactorNoKafkaCanHaveIsRefusedWithTheSettings(CapturedOutput output) {
        assertThatThrownBy(() -> startWithVariables(java.util.Map.of("HERALD_TOPICS_REPLICATION_FACTOR", "40000"),
                new Class<?>[] {OnlySettings.class}, "--spring.config.location=classpath:bad-settings/valid.yaml")).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START")
                .contains("Property: herald.topics.replication-factor").contains("Value: \"40000\"")
                .contains("Origin: System Environment Property \"HERALD_TOPICS_REPLICATION_FACTOR\"")
                .contains("Reason: must be at most the number of brokers");
    }
}
