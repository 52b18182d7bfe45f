package io.herald.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.herald.notification.CanonicalNotification;
import io.herald.notification.InvalidNotification;
import io.herald.notification.NotificationCatalog;
import io.herald.notification.NotificationCatalog.Reminders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog's reminders key in its three forms (a booking's plan, move, cancel), what it reads from an event (the
 * appointment's time and match key, or why it cannot), and a wrong value stopping startup with the file and the key.
 */
class ReminderCatalogTest {

    @TempDir
    Path dir;

    @Test
    void theShippedBookingHasRemindersAt24And2HoursThatItsRescheduleMovesAndItsCancellationCancels() {
        NotificationCatalog catalog = new NotificationCatalog("config/catalog.yaml");
        Reminders booking = catalog.reminders("crm.appointment_scheduled");
        assertThat(booking).isEqualTo(new Reminders(Reminders.BOOK, "crm.appointment_scheduled", "crm.appointment_reminder",
                List.of(Duration.ofHours(24), Duration.ofHours(2)), "startsAt", "appointmentId"));
        assertThat(catalog.reminders("crm.appointment_rescheduled").action()).isEqualTo(Reminders.MOVE);
        assertThat(catalog.reminders("crm.appointment_rescheduled").before()).isEqualTo(booking.before());
        assertThat(catalog.reminders("crm.appointment_cancelled").action()).isEqualTo(Reminders.CANCEL);
        assertThat(catalog.reminders("crm.appointment_reminder")).isNull();
        assertThat(catalog.reminders("crm.order_confirmed")).isNull();

        CanonicalNotification event = booking("2026-12-24T10:00:00+01:00");
        assertThat(booking.time(event)).isEqualTo(Instant.parse("2026-12-24T09:00:00Z"));
        assertThat(booking.matchKey(event)).isEqualTo("appointment:APT-17");
    }

    @Test
    void anEventWithoutAReadableTimeOrAppointmentSaysWhichFieldAndWhereToLook() {
        Reminders booking = new NotificationCatalog("config/catalog.yaml").reminders("crm.appointment_scheduled");
        assertThatThrownBy(() -> booking.time(booking("next Tuesday"))).isInstanceOf(InvalidNotification.class)
                .hasMessage("crm.appointment_scheduled has reminders before data.startsAt (config/catalog.yaml), and this one's startsAt is"
                        + " 'next Tuesday', not an ISO-8601 time with an offset: nothing was sent or scheduled. Check the mapping of crm-outbox-17");
        CanonicalNotification noId = new CanonicalNotification("k", "crm", "crm-outbox-17", "crm.appointment_scheduled", "cus_1",
                Instant.parse("2026-12-01T09:00:00Z"), Map.of(), Map.of("startsAt", "2026-12-24T10:00:00+01:00"), "normal");
        assertThatThrownBy(() -> booking.matchKey(noId)).isInstanceOf(InvalidNotification.class)
                .hasMessageStartingWith("crm.appointment_scheduled has reminders for data.appointmentId (config/catalog.yaml), and this one has"
                        + " no appointmentId");
    }

    @Test
    void aWrongReminderSettingStopsStartupNamingTheFileAndTheKey() throws IOException {
        assertRefused("reminders: yes", "key 'notifications.booking.reminders' must be {type: <reminder type>");
        assertRefused("reminders: {type: nope, before: [PT24H], of: startsAt, for: appointmentId}",
                "key 'notifications.booking.reminders.type' must name the reminders' own notification type, listed in this catalog");
        assertRefused("reminders: {type: reminder, before: [], of: startsAt, for: appointmentId}",
                "key 'notifications.booking.reminders.before' must be a non-empty list of ISO-8601 durations");
        assertRefused("reminders: {type: reminder, before: [24 hours], of: startsAt, for: appointmentId}",
                "key 'notifications.booking.reminders.before' must list ISO-8601 durations such as PT24H or PT2H, has '24 hours'");
        assertRefused("reminders: {type: reminder, before: [PT24H, P1D], of: startsAt, for: appointmentId}",
                "key 'notifications.booking.reminders.before' lists P1D twice");
        assertRefused("reminders: {type: reminder, before: [-PT2H], of: startsAt, for: appointmentId}",
                "key 'notifications.booking.reminders.before' must list positive durations");
        assertRefused("reminders: {type: reminder, before: [PT2H], for: appointmentId}", "key 'notifications.booking.reminders.of' is required");
        assertRefused("reminders: {type: reminder, before: [PT2H], of: startsAt}", "key 'notifications.booking.reminders.for' is required");
        assertRefused("reminders: {type: reminder, before: [PT2H], of: startsAt, for: appointmentId, at: 9}",
                "key 'notifications.booking.reminders.at' is not a setting of reminders");
        assertRefused("reminders: {move: crm.nothing}", "key 'notifications.booking.reminders.move' must name a booking type with reminders");
        assertRefused("reminders: {cancel: reminder}", "key 'notifications.booking.reminders.cancel' must name a booking type with reminders");
    }

    /** A reminder fires by itself: a reminder type that requires approval would go out unapproved, so startup refuses it. */
    @Test
    void aReminderTypeThatRequiresApprovalStopsStartup() throws IOException {
        assertRefused("reminders: {type: reminder, before: [PT2H], of: startsAt, for: appointmentId}", "approval: required",
                "key 'notifications.reminder.approval' cannot be set on reminder, the reminder type of booking: its reminders fire by"
                        + " themselves, with no approver; require approval on booking instead");
    }

    @Test
    void theOffsetIsSaidInWords() {
        assertThat(AppointmentReminders.words(Duration.ofHours(24))).isEqualTo("24-hour");
        assertThat(AppointmentReminders.span(Duration.ofHours(24))).isEqualTo("24 hours");
        assertThat(AppointmentReminders.span(Duration.ofHours(1))).isEqualTo("1 hour");
        assertThat(AppointmentReminders.span(Duration.ofMinutes(30))).isEqualTo("30 minutes");
        assertThat(AppointmentReminders.span(Duration.ofDays(2))).isEqualTo("2 days");
        assertThat(AppointmentReminders.reminderKey("crm:appointment.scheduled:A-1:2026-12-24T10:00:00+01:00", Duration.ofHours(2)))
                .isEqualTo("crm:appointment.scheduled:A-1:2026-12-24T10:00:00+01:00:reminder:PT2H");
        assertThat(AppointmentReminders.reminderKey("k".repeat(399), Duration.ofHours(2))).hasSizeLessThanOrEqualTo(400)
                .startsWith("reminder:").endsWith(":reminder:PT2H");
    }

    private static CanonicalNotification booking(String startsAt) {
        return new CanonicalNotification("crm:appointment.scheduled:APT-17:" + startsAt, "crm", "crm-outbox-17", "crm.appointment_scheduled",
                "cus_1", Instant.parse("2026-12-01T09:00:00Z"), Map.of(), Map.of("appointmentId", "APT-17", "startsAt", startsAt), "normal");
    }

    private void assertRefused(String reminders, String expected) throws IOException {
        assertRefused(reminders, "", expected);
    }

    /** A catalog of a booking type with {@code reminders} and a reminder type with {@code reminderSettings}, refused. */
    private void assertRefused(String reminders, String reminderSettings, String expected) throws IOException {
        Path file = dir.resolve("catalog.yaml");
        Files.writeString(file, """
                notifications:
                  booking:
                    category: appointments
                    priority: normal
                    channels: [email]
                    window: PT1H
                    %s
                  reminder:
                    category: appointments
                    priority: normal
                    channels: [email]
                    window: PT1H
                    %s
                """.formatted(reminders, reminderSettings));
        assertThatThrownBy(() -> new NotificationCatalog(file.toString()))
                .hasMessageContaining("Notification catalog " + file)
                .hasMessageContaining(expected);
    }
}
