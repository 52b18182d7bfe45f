package io.herald.local;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.herald.HeraldApplication;
import org.springframework.boot.SpringApplication;

/**
 * Runs Herald locally with everything embedded: {@code mvn spring-boot:test-run}.
 * Starts PostgreSQL, Kafka, an SMTP server (with a page listing what it received) and the
 * provider sandbox, points Herald at them through the same settings production reads from
 * its environment, and starts Herald with the local profile. Lives in src/test so none of
 * this reaches the production image.
 */
public final class LocalHerald {

    private LocalHerald() {
    }

    public static void main(String[] args) throws Exception {
        int smtpPort = Integer.getInteger("herald.local.smtp-port", 3025);
        int providerPort = Integer.getInteger("herald.local.sandbox-port", 8089);
        int mailboxPort = Integer.getInteger("herald.local.mailbox-port", 8025);
        int crmPort = Integer.getInteger("herald.local.crm-port", 8091);
        // -Dserver.port moves Herald's HTTP port too; the banner, the alerts' console links and the scripts' hints follow it.
        if (System.getProperty("server.port") != null && System.getProperty("herald.http.port") == null) {
            System.setProperty("herald.http.port", System.getProperty("server.port"));
        }
        int httpPort = Integer.parseInt(System.getProperty("herald.http.port", "8080"));
        Optional<String> taken = LocalPorts.taken(List.of(
                new LocalPorts.Port("Herald: console, API, webhooks", "herald.http.port", httpPort, "0.0.0.0"),
                new LocalPorts.Port("the local SMTP server", "herald.local.smtp-port", smtpPort, "127.0.0.1"),
                new LocalPorts.Port("the local mailbox page", "herald.local.mailbox-port", mailboxPort, "127.0.0.1"),
                new LocalPorts.Port("the provider sandbox", "herald.local.sandbox-port", providerPort, "127.0.0.1"),
                new LocalPorts.Port("the local CRM page", "herald.local.crm-port", crmPort, "127.0.0.1")));
        if (taken.isPresent()) {
            System.err.println("\n" + taken.get() + "\n");
            System.exit(1);
        }
        EmbeddedInfrastructure infra = EmbeddedInfrastructure.start(smtpPort, providerPort);
        Map<String, String> settings = infra.heraldSettings();
        settings.forEach(System::setProperty);
        LocalMailbox.serve(infra.mail(), mailboxPort);

        SpringApplication herald = new SpringApplication(HeraldApplication.class);
        herald.setAdditionalProfiles("local");
        try {
            herald.run(args);
        } catch (RuntimeException startFailed) {
            // The reason is printed above (Spring Boot's failure analysis, or "Herald cannot start: ..."). The embedded
            // infrastructure's threads would keep this process running with nothing to serve: stop it (the shutdown hook
            // stops PostgreSQL, Kafka, the SMTP server and the sandbox) so that the command ends and says so.
            System.err.println("\nHerald did not start (the reason is above); correct it and run mvn spring-boot:test-run again.");
            System.exit(1);
        }
        LocalCrm.serve(settings, crmPort);   // after Herald: Flyway has created the local crm_outbox

        String port = System.getProperty("herald.http.port", "8080");   // set before Herald starts (server.port taken as it, above)
        System.out.println(banner(port, settings.get("herald.mail.port"), mailboxPort, crmPort, settings.get("herald.providers.base-url"),
                settings.get("herald.kafka.brokers"), settings.get("herald.db.url")));
    }

    /**
     * What the run prints once Herald is up. With a moved port the script hints carry the moved address: the scripts
     * default to 8080 and 8091, so a bare {@code scripts/post-sample-webhook.sh} would post to another run, or nowhere.
     */
    static String banner(String port, String smtpPort, int mailboxPort, int crmPort, String sandbox, String kafka, String db) {
        String herald = "8080".equals(port) ? "" : " http://localhost:" + port;
        String support = herald.isEmpty() ? "" : " src/test/resources/samples/support/ticket.status_changed.json" + herald;
        String billing = herald.isEmpty() ? "" : " src/test/resources/samples/billing/invoice.payment_failed.json" + herald;
        String crm = crmPort == 8091 ? "" : "LOCAL_CRM_URL=http://localhost:" + crmPort + " ";
        return """

                ============================ Herald is running (local profile) ============================
                  Post a signed sample ticket event:  scripts/post-sample-webhook.sh%2$s
                  A Stripe-signed billing event:      scripts/post-billing-webhook.sh%3$s
                  A row in the CRM outbox:            %4$sscripts/insert-crm-outbox-row.sh [order.confirmed|contact.updated|...]
                  Operations console (failures):      http://localhost:%1$s/console
                    DEMO logins: viewer/viewer-demo, operator/operator-demo, admin/admin-demo, approver/approver-demo
                  Hawtio (routes, diagrams, counts):  http://localhost:%1$s/actuator/hawtio   (admin)
                  %5$-36shttp://localhost:%6$d/
                  Provider sandbox requests:          %7$s/__admin/requests
                  Health:                             http://localhost:%1$s/actuator/health
                  Kafka: %8$s    PostgreSQL: %9$s
                ===========================================================================================
                """.formatted(port, support, billing, crm, "Mail Herald sent (SMTP on " + smtpPort + "):", mailboxPort, sandbox, kafka, db);
    }
}
