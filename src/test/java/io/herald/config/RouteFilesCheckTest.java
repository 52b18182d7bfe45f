package io.herald.config;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * herald.routes is checked at startup as Camel reads it (camel.main.routes-include-pattern, Ant style): a pattern Camel
 * loads the repository's routes with must start, and one matching nothing must still name the setting.
 */
class RouteFilesCheckTest {

    @Test
    void aRecursivePatternCamelLoadsStartsHerald() {
        // Camel loads routes/*.camel.yaml for routes/**/*.camel.yaml; the check refused it as matching no file.
        assertThatCode(() -> RouteFiles.check("file:routes/**/*.camel.yaml")).doesNotThrowAnyException();
        assertThatCode(() -> RouteFiles.check("file:routes/*.camel.yaml, file:routes/billing-ingest.camel.yaml"))
                .doesNotThrowAnyException();
    }

    @Test
    void aPatternMatchingNoFileStillNamesTheSetting() {
        assertThatThrownBy(() -> RouteFiles.check("file:routes/**/*.camel.yml")).hasMessageContaining("herald.routes matches no file in");
    }
}
