package io.herald.ops;

import org.apache.camel.LoggingLevel;
import org.apache.camel.spring.spi.LegacyTransactionErrorHandlerBuilder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * The error handler of the pollers' transacted sub-routes (crm-outbox-claim, failure-alert, signature-failure-alert,
 * receipt-spike-alert: {@code errorHandlerRef: pollerTransactionErrors}): Camel's transaction error handler, as a
 * {@code transacted} route gets by default, without its own log of a failure. It ends a failure inside the
 * transaction, rolls back and gives the failure to the timer route, which says an outage once (SkippedPolls) and logs
 * anything else; its own log was an ERROR with a stack trace at every run cut off by an outage. (The YAML DSL's
 * springTransactionErrorHandler cannot be used for this: Camel 4.17 builds a plain DefaultErrorHandler from it and the
 * route fails to start with a ClassCastException.)
 */
@Configuration
public class PollerTransactions {

    @Bean
    LegacyTransactionErrorHandlerBuilder pollerTransactionErrors(PlatformTransactionManager transactions) {
        LegacyTransactionErrorHandlerBuilder errors = new LegacyTransactionErrorHandlerBuilder();
        errors.setTransactionManager(transactions);
        errors.loggingLevel(LoggingLevel.OFF);   // its "Failed delivery … Exhausted" log, with the stack trace
        errors.logExhausted(false);
        return errors;
    }
}
