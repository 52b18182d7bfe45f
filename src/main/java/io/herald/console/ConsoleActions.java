package io.herald.console;

import java.io.IOException;
import java.security.Principal;
import java.util.List;

import io.herald.dispatch.DeliveryResend;
import io.herald.ingest.QuarantineRedrive;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * The console's buttons (operators and admins only; the security filter refuses viewers). Each one
 * runs an audited OperatorActions call and returns to the page it came from with what happened.
 */
@Controller
public class ConsoleActions {

    private final OperatorActions actions;

    public ConsoleActions(OperatorActions actions) {
        this.actions = actions;
    }

    @PostMapping("/console/deliveries/{id}/retry")
    public String retry(@PathVariable long id, @RequestParam long notification, @RequestParam(required = false) String comment,
                        Principal who, RedirectAttributes flash) {
        run(flash, () -> actions.retry(id, ConsoleUser.of(who).name(), comment).message());
        return "redirect:/console/notifications/" + notification;
    }

    @PostMapping("/console/deliveries/{id}/dismiss")
    public String dismiss(@PathVariable long id, @RequestParam long notification, @RequestParam(required = false) String comment,
                          Principal who, RedirectAttributes flash) {
        run(flash, () -> actions.dismissDelivery(id, ConsoleUser.of(who).name(), comment).message());
        return "redirect:/console/notifications/" + notification;
    }

    @PostMapping("/console/deliveries/{id}/resend")
    public String resend(@PathVariable long id, @RequestParam long notification, @RequestParam(defaultValue = "false") boolean confirm,
                         @RequestParam(required = false) String comment, Principal who, RedirectAttributes flash) {
        run(flash, () -> {
            DeliveryResend.Result result = actions.resend(id, confirm, ConsoleUser.of(who).name(), comment);
            // "2nd resend of delivery 9: sent": its place among the delivery's resends, not its id, which counts every delivery's.
            return result.message() + (result.reason() == null ? "" : " (" + result.reason() + ")");
        });
        return "redirect:/console/notifications/" + notification;
    }

    @PostMapping("/console/quarantine/{id}/redrive")
    public String redrive(@PathVariable long id, @RequestParam(required = false) String comment, Principal who,
                          RedirectAttributes flash) {
        run(flash, () -> {
            QuarantineRedrive.Result result = actions.redrive(id, ConsoleUser.of(who).name(), comment);
            return "REDRIVEN".equals(result.status()) ? "event " + id + " re-driven: " + result.outcome()
                    : "event " + id + " is still quarantined: " + result.reason();
        });
        return "redirect:/console/quarantine/" + id;
    }

    @PostMapping("/console/quarantine/{id}/dismiss")
    public String dismissQuarantined(@PathVariable long id, @RequestParam(required = false) String comment, Principal who,
                                     RedirectAttributes flash) {
        run(flash, () -> actions.dismissQuarantined(id, ConsoleUser.of(who).name(), comment).message());
        return "redirect:/console/quarantine/" + id;
    }

    @PostMapping("/console/failures/retry")
    public String bulkRetry(FailureSearch.Filter filter, @RequestParam(defaultValue = "false") boolean confirm,
                            @RequestParam(required = false) String comment, Principal who, RedirectAttributes flash) {
        run(flash, () -> {
            if (!confirm) {
                throw new ActionRefused("tick the confirmation to retry every failed or parked delivery in this list", false);
            }
            List<OperatorActions.Outcome> retried = actions.bulkRetry(filter, ConsoleUser.of(who).name(), comment);
            return retried.size() + " deliveries queued for another attempt (" + filter.describe() + ")";
        });
        UriComponentsBuilder back = UriComponentsBuilder.fromPath("/console");
        filter.asMap().forEach(back::queryParam);
        // Encoded after building: a filter value with braces ({x}) is text, not a template variable for the redirect to expand.
        return "redirect:" + back.build().encode().toUriString();
    }

    private interface Action {
        String run() throws IOException;
    }

    private static void run(RedirectAttributes flash, Action action) {
        try {
            flash.addFlashAttribute("message", action.run());
        } catch (ActionRefused | IOException e) {
            flash.addFlashAttribute("error", e.getMessage());
        }
    }
}
