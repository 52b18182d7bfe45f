package io.herald.helpdesk;

import java.security.Principal;

import io.herald.config.HelpdeskSettings;
import io.herald.console.ConsoleUser;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;

/**
 * The console's ticket notes: the private notes Herald writes on helpdesk tickets for support notifications' outcomes,
 * newest first, with their state and, for those waiting or failed, why (?open=true: only those).
 */
@Controller
public class TicketNotesPage {

    static final int PAGE_SIZE = 500;

    private final TicketNotes notes;
    private final HelpdeskSettings settings;

    public TicketNotesPage(TicketNotes notes, HelpdeskSettings settings) {
        this.notes = notes;
        this.settings = settings;
    }

    @GetMapping("/console/ticket-notes")
    public String list(@RequestParam(defaultValue = "false") boolean open, Principal who, Model model) {
        model.addAttribute("user", ConsoleUser.of(who));
        model.addAttribute("notes", notes.recent(open, PAGE_SIZE));
        model.addAttribute("open", open);
        model.addAttribute("enabled", settings.enabled());
        model.addAttribute("pageSize", PAGE_SIZE);
        return "ticket-notes";
    }
}
