package io.herald.config;

import java.util.regex.Pattern;

import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.core.Ordered;

/**
 * What the operator reads when one of Herald's own startup checks stops it (the catalog, the rules, the templates, a
 * provider key, the CRM outbox table, a route naming a setting that does not exist): the check's sentence, which names the
 * file or setting, in Spring Boot's "APPLICATION FAILED TO START" box. It used to be one "Caused by" deep in a stack trace
 * of up to 360 lines. Settings that cannot be bound are SettingsFailureAnalyzer's.
 */
public class StartupCheckFailureAnalyzer implements FailureAnalyzer, Ordered {

    /** A sentence that names something an operator can correct: a Herald setting, variable or file. */
    private static final Pattern NAMES_WHAT_TO_CORRECT = Pattern.compile(
            "herald\\.[a-z]|HERALD_[A-Z]|config/|templates/|datasonnet/|routes/|Notification (catalog|rules)");

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE + 1;
    }

    @Override
    public FailureAnalysis analyze(Throwable failure) {
        String check = null;
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if ((t instanceof IllegalStateException || t instanceof IllegalArgumentException) && t.getMessage() != null
                    && NAMES_WHAT_TO_CORRECT.matcher(t.getMessage()).find()) {
                check = t.getMessage();   // the deepest: the check itself, not a wrapper quoting it
            }
        }
        if (check == null) {
            return null;
        }
        String sentence = check.strip().replaceFirst("^Herald cannot start: *", "");
        return new FailureAnalysis("Herald cannot start:\n\n    " + sentence.replace("\n", "\n    "),
                "Correct what it names (a setting where it is set, a file under config/, templates/, datasonnet/ or routes/), then"
                        + " start Herald again. The README's configuration reference says what each setting takes.", failure);
    }
}
