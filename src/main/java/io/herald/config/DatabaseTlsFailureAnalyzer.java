package io.herald.config;

import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.core.Ordered;

/**
 * What the operator reads when Herald stops at startup because PostgreSQL refused its TLS connection (Flyway's migrations are
 * its first connection): the refusal in words (DatabaseTlsRefused), naming the setting to correct, instead of Flyway's
 * "Unable to obtain connection from database" and the driver's SSL stack trace.
 */
public class DatabaseTlsFailureAnalyzer implements FailureAnalyzer, Ordered {

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE + 2;
    }

    @Override
    public FailureAnalysis analyze(Throwable failure) {
        String reason = DatabaseTlsRefused.reason(failure);
        if (reason == null) {
            return null;
        }
        return new FailureAnalysis("Herald cannot start: it could not connect to PostgreSQL over TLS.\n\n    " + reason,
                "Correct what it names, then start Herald again. The README's 'PostgreSQL over TLS' says what each setting takes.", failure);
    }
}
