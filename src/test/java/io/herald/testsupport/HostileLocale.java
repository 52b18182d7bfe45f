package io.herald.testsupport;

import java.util.Locale;
import java.util.TimeZone;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a test class in the JVM default locale and time zone a container's LANG/LC_ALL and TZ give (tr_TR with its dotless
 * i, ar_EG with Arabic-Indic digits, Pacific/Chatham at +13:45), restoring the previous defaults afterwards. Herald must
 * behave the same in every one: {@code @RegisterExtension static final HostileLocale TURKISH = new HostileLocale("tr-TR", "Europe/Istanbul");}
 */
public final class HostileLocale implements BeforeAllCallback, AfterAllCallback {

    private final Locale locale;
    private final TimeZone zone;
    private Locale before;
    private Locale formatBefore;
    private Locale displayBefore;
    private TimeZone zoneBefore;

    public HostileLocale(String languageTag, String zoneId) {
        this.locale = Locale.forLanguageTag(languageTag);
        this.zone = TimeZone.getTimeZone(zoneId);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        before = Locale.getDefault();
        formatBefore = Locale.getDefault(Locale.Category.FORMAT);
        displayBefore = Locale.getDefault(Locale.Category.DISPLAY);
        zoneBefore = TimeZone.getDefault();
        Locale.setDefault(locale);
        TimeZone.setDefault(zone);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Locale.setDefault(before);
        Locale.setDefault(Locale.Category.FORMAT, formatBefore);
        Locale.setDefault(Locale.Category.DISPLAY, displayBefore);
        TimeZone.setDefault(zoneBefore);
    }
}
