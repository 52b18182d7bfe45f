package io.herald.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The README's configuration reference and the settings Herald really binds (the configuration processor's
 * metadata, written from the records in io.herald.config) cannot drift: a herald.* key in one and not the
 * other fails here, named. README rows may name several keys ("`herald.mail.connect-timeout-ms` / `.read-timeout-ms`")
 * and stand for every channel ("`herald.<channel>.max-in-flight`").
 */
class SettingsDocumentedTest {

    static final Path METADATA = Path.of("target", "classes", SettingsMetadata.RESOURCE);
    /** The README to check; -Dherald-test.readme=... checks another copy (e.g. one with rows about to be pasted). */
    static final Path README = Path.of(System.getProperty("herald-test.readme", "README.md"));
    private static final Pattern CODE = Pattern.compile("`([^`]+)`");

    private static List<SettingsMetadata.Setting> settings;
    private static JsonNode metadata;

    @BeforeAll
    static void read() throws IOException {
        metadata = new ObjectMapper().readTree(METADATA.toFile());
        settings = SettingsMetadata.herald(metadata);
    }

    @Test
    void everySettingHeraldBindsIsInTheReadmesConfigurationReference() throws IOException {
        List<Pattern> documented = documented().stream().map(SettingsDocumentedTest::pattern).toList();
        List<String> missing = settings.stream().map(SettingsMetadata.Setting::name)
                .filter(name -> documented.stream().noneMatch(key -> key.matcher(name).matches())).toList();
        assertThat(settings).as("herald.* settings in " + METADATA).hasSizeGreaterThan(100);
        assertThat(missing).as("settings Herald binds (" + METADATA + ") missing from the table under '## Configuration reference'"
                + " in " + README).isEmpty();
    }

    @Test
    void everySettingInTheReadmesConfigurationReferenceIsOneHeraldBinds() throws IOException {
        Set<String> documented = documented();
        assertThat(documented).as("herald.* keys in the README's configuration reference").hasSizeGreaterThan(100);
        List<String> unknown = documented.stream()
                .filter(key -> settings.stream().noneMatch(setting -> pattern(key).matcher(setting.name()).matches())).toList();
        assertThat(unknown).as("keys in the table under '## Configuration reference' in " + README
                + " that Herald does not bind (not in " + METADATA + "): misspelt, or a record in io.herald.config lacks them").isEmpty();
    }

    @Test
    void everyRecordSettingSaysWhatItDoes() {
        List<String> undescribed = new ArrayList<>();
        for (JsonNode property : metadata.path("properties")) {
            String source = property.path("sourceType").asText();
            if (source.startsWith("io.herald.config.") && source.contains("Settings") && property.path("description").asText("").isBlank()) {
                undescribed.add(property.path("name").asText() + " (" + source + ")");
            }
        }
        assertThat(undescribed).as("settings without a description: give the record component a @param in its javadoc").isEmpty();
    }

    /** The herald.* keys the README's configuration reference table names in its first column. */
    static Set<String> documented() throws IOException {
        String readme = Files.readString(README);
        int start = readme.indexOf("\n## Configuration reference");
        assertThat(start).as(README + " has a '## Configuration reference' section").isNotNegative();
        int end = readme.indexOf("\n## ", start + 1);
        String section = end < 0 ? readme.substring(start) : readme.substring(start, end);
        Set<String> keys = new LinkedHashSet<>();
        for (String line : section.lines().toList()) {
            if (!line.startsWith("| `")) {
                continue;
            }
            String firstCell = line.split("\\|")[1];
            String last = null;
            Matcher code = CODE.matcher(firstCell);
            while (code.find()) {
                String token = code.group(1);
                // "`herald.mail.connect-timeout-ms` / `.read-timeout-ms`": the second names herald.mail.read-timeout-ms
                String key = token.startsWith(".") && last != null ? last.substring(0, last.lastIndexOf('.')) + token : token;
                if (!token.startsWith(".")) {
                    last = token;
                }
                if (key.startsWith("herald.")) {
                    keys.add(key);
                }
            }
        }
        return keys;
    }

    /** A README key as a pattern: herald.&lt;channel&gt;.max-in-flight stands for herald.sms.max-in-flight and the others. */
    static Pattern pattern(String key) {
        return Pattern.compile(Pattern.quote(key).replace("<channel>", "\\E[a-z-]+\\Q"));
    }
}
