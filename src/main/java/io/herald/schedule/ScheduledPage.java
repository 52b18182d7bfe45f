package io.herald.schedule;

import java.security.Principal;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

import io.herald.console.ActionRefused;
import io.herald.console.ConsoleUser;
import io.herald.console.FailureSearch;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;

/**
 * The console's Scheduled page (issue 14 point 7): notifications waiting for a time (quiet hours, reminders) or held for
 * an operator (late messages), filtered by type, customer and fire time (UTC); an operator cancels (a held one:
 * dismisses) or sends one now, with a comment, audited. Viewers see the list, reasons masked, and no actions.
 */
@Controller
public class ScheduledPage {

    private final WaitingNotifications waiting;

    public ScheduledPage(WaitingNotifications waiting) {
        this.waiting = waiting;
    }

    @GetMapping("/console/scheduled")
    public String list(@RequestParam(required = false) String type, @RequestParam(required = false) String customer,
                       @RequestParam(required = false) String from, @RequestParam(required = false) String to,
                       Principal who, Model model) {
        ConsoleUser user = ConsoleUser.of(who);
        // The same forms as /api/scheduled and the failures list: a date, a UTC time, or a time with its offset.
        Instant since = FailureSearch.instant(from, "from");
        Instant until = FailureSearch.until(to, "to");
        WaitingNotifications.Filter filter = new WaitingNotifications.Filter(type, customer, since, until);
        model.addAttribute("user", user);
        model.addAttribute("filter", filter);
        model.addAttribute("fromUtc", since == null ? null : LocalDateTime.ofInstant(since, ZoneOffset.UTC));
        // The end the filter used: a date's next midnight, so searching again from the page's own field keeps the whole day.
        model.addAttribute("toUtc", until == null ? null : LocalDateTime.ofInstant(until, ZoneOffset.UTC));
        model.addAttribute("waiting", waiting.list(filter, user.masked()));
        model.addAttribute("pageSize", WaitingNotifications.PAGE_SIZE);
        return "scheduled";
    }

    @PostMapping("/console/scheduled/{id}/{action:cancel|send-now}")
    public String act(@PathVariable long id, @PathVariable String action, @RequestParam(required = false) String comment,
                      Principal who, RedirectAttributes flash) {
        String actor = ConsoleUser.of(who).name();
        try {
            WaitingNotifications.Decision done = action.equals("cancel") ? waiting.cancel(id, actor, comment) : waiting.sendNow(id, actor, comment);
            flash.addFlashAttribute("message", done.message());
        } catch (ActionRefused e) {
            flash.addFlashAttribute("error", e.getMessage());
        }
        return "redirect:/console/scheduled";
    }

}
