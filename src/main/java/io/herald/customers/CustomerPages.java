package io.herald.customers;

import java.security.Principal;

import io.herald.console.ActionRefused;
import io.herald.console.ConsoleUser;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;

/**
 * The console's customer pages (issue 13 point 5): search customers by id, a source system's id, email or phone;
 * one customer's view; notifications by customer, order or ticket. And the quarantine page's "link and re-drive"
 * button (point 4). Viewers see personal data masked; only operators can link.
 */
@Controller
public class CustomerPages {

    private final io.herald.retention.CustomerErasure erasure;
    private final io.herald.retention.CustomerPage erasedPage;
    private final io.herald.receipts.InboundSms inboundSms;
    private final io.herald.helpdesk.TicketNotes ticketNotes;

    static final int PAGE_SIZE = 50;

    private final CustomerView view;
    private final QuarantineLinking linking;

    public CustomerPages(CustomerView view, QuarantineLinking linking, io.herald.retention.CustomerErasure erasure,
                         io.herald.retention.CustomerPage erasedPage, io.herald.receipts.InboundSms inboundSms,
                         io.herald.helpdesk.TicketNotes ticketNotes) {
        this.inboundSms = inboundSms;
        this.ticketNotes = ticketNotes;
        this.erasure = erasure;
        this.erasedPage = erasedPage;
        this.view = view;
        this.linking = linking;
    }

    @GetMapping("/console/customers")
    public String search(@RequestParam(required = false) String q, Principal who, Model model) {
        ConsoleUser user = ConsoleUser.of(who);
        model.addAttribute("user", user);
        model.addAttribute("q", q);
        model.addAttribute("found", view.search(q, user.masked()));
        return "customers";
    }

    @GetMapping("/console/customers/{id}")
    public String customer(@PathVariable String id, @RequestParam(defaultValue = "0") int page, Principal who, Model model) {
        ConsoleUser user = ConsoleUser.of(who);
        model.addAttribute("user", user);
        var profile = view.profile(id, user.masked());
        if (profile.isEmpty() && erasure.find(id).isPresent()) {
            return erasedPage.erased(id, user, model);
        }
        model.addAttribute("c", profile.orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND, "no customer " + id)));
        model.addAttribute("p", view.notifications(id, page, PAGE_SIZE, user.masked()));
        model.addAttribute("consentHistory", inboundSms.history(id, PAGE_SIZE));
        model.addAttribute("ticketNotes", ticketNotes.forCustomer(id, PAGE_SIZE));
        return "customer";
    }

    @GetMapping("/console/notifications")
    public String notifications(CustomerView.NotificationFilter filter, @RequestParam(defaultValue = "0") int page, Principal who,
                                Model model) {
        ConsoleUser user = ConsoleUser.of(who);
        model.addAttribute("user", user);
        model.addAttribute("filter", filter);
        model.addAttribute("p", view.search(filter, page, PAGE_SIZE, user.masked()));
        return "notification-search";
    }

    @PostMapping("/console/quarantine/{id}/link")
    public String link(@PathVariable long id, @RequestParam(required = false) String customerId,
                       @RequestParam(required = false) String comment, Principal who, RedirectAttributes flash) {
        try {
            QuarantineLinking.Result result = linking.link(id, customerId, ConsoleUser.of(who).name(), comment);
            flash.addFlashAttribute("message", "event " + id + ": " + result.message());
        } catch (QuarantineLinking.BadLink | ActionRefused e) {
            flash.addFlashAttribute("error", e.getMessage());
        }
        return "redirect:/console/quarantine/" + id;
    }
}
