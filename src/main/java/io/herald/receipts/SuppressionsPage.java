package io.herald.receipts;

import java.security.Principal;

import io.herald.console.ConsoleUser;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;

/**
 * The console's suppression list: addresses Herald no longer sends to (always masked), why and since when,
 * with the lifted ones below; an admin lifts an entry with a comment (audited).
 */
@Controller
public class SuppressionsPage {

    static final int PAGE_SIZE = 500;

    private final Suppressions suppressions;

    public SuppressionsPage(Suppressions suppressions) {
        this.suppressions = suppressions;
    }

    @GetMapping("/console/suppressions")
    public String list(Principal who, Model model) {
        model.addAttribute("user", ConsoleUser.of(who));
        model.addAttribute("suppressions", suppressions.list(true, PAGE_SIZE));
        model.addAttribute("pageSize", PAGE_SIZE);
        return "suppressions";
    }

    @PostMapping("/console/suppressions/{id}/lift")
    public String lift(@PathVariable long id, @RequestParam(required = false) String comment, Principal who, RedirectAttributes flash) {
        ConsoleUser user = ConsoleUser.of(who);
        if (!user.admin()) {
            flash.addFlashAttribute("error", "only an admin may lift a suppression");
        } else if (comment == null || comment.isBlank()) {
            flash.addFlashAttribute("error", "say why the suppression is lifted (comment)");
        } else if (!suppressions.lift(id, user.name(), comment.trim())) {
            flash.addFlashAttribute("error", "suppression " + id + " is not active (lifted already, or no such entry)");
        } else {
            flash.addFlashAttribute("message", "suppression " + id + " lifted: the address may be sent to again");
        }
        return "redirect:/console/suppressions";
    }
}
