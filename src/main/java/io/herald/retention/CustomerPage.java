package io.herald.retention;

import java.security.Principal;
import java.util.Map;

import io.herald.console.ActionRefused;
import io.herald.console.ConsoleUser;
import io.herald.identity.CustomerDirectory;
import io.herald.logging.Masking;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * The console's customer page: the directory entry (masked for viewers), how many notifications the ledger holds for them,
 * and, for an admin, the erasure form (a comment is required; audited). An erased customer's page says when, by whom and why.
 */
@Controller
public class CustomerPage {

    private final CustomerDirectory directory;
    private final CustomerErasure erasure;
    private final JdbcTemplate jdbc;

    public CustomerPage(CustomerDirectory directory, CustomerErasure erasure, JdbcTemplate jdbc) {
        this.directory = directory;
        this.erasure = erasure;
        this.jdbc = jdbc;
    }

    /**
     * The page of a customer who was erased (the customer view, io.herald.customers.CustomerPages, shows it when the
     * directory has no entry but a tombstone): when, by whom, why, what was removed, and how many ledger rows remain.
     */
    public String erased(String customerId, ConsoleUser user, Model model) {
        model.addAttribute("user", user);
        model.addAttribute("customerId", customerId);
        model.addAttribute("entry", null);
        model.addAttribute("notifications", jdbc.queryForObject("SELECT count(*) FROM notification_all WHERE customer_id = ?", Long.class,
                customerId));
        CustomerErasure.Erasure erased = erasure.find(customerId).orElseThrow();
        model.addAttribute("erasure", user.masked() ? new CustomerErasure.Erasure(erased.id(), erased.customerId(), erased.erasedAt(),
                erased.requestedBy(), Masking.mask(erased.comment()), erased.removed()) : erased);
        return "customer-erased";
    }

    @PostMapping("/console/customers/{customerId}/erase")
    public String erase(@PathVariable String customerId, @RequestParam(required = false) String comment,
                        @RequestParam(required = false) String confirm, Principal who, RedirectAttributes flash) {
        ConsoleUser user = ConsoleUser.of(who);
        if (!user.admin()) {
            flash.addFlashAttribute("error", "only an admin may erase a customer");
        } else if (!"yes".equals(confirm)) {
            flash.addFlashAttribute("error", "an erasure cannot be undone; tick the confirmation box");
        } else {
            try {
                CustomerErasure.Erasure done = erasure.erase(customerId, user.name(), comment);
                flash.addFlashAttribute("message", "customer " + customerId + " erased: " + done.removed());
            } catch (ActionRefused e) {
                flash.addFlashAttribute("error", e.getMessage());
            }
        }
        return "redirect:" + UriComponentsBuilder.fromPath("/console/customers/{id}").buildAndExpand(customerId).encode().toUriString();
    }
}
