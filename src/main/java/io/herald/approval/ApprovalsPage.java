package io.herald.approval;

import java.security.Principal;

import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;

/**
 * The console's approvals: notifications held before sending, each with why it needs approval, when it expires, who
 * triggered it, and per channel the recipient (masked for viewers) and the message as it would be sent; an approver
 * approves or rejects with a comment (audited, four eyes).
 */
@Controller
public class ApprovalsPage {

    private final Approvals approvals;

    public ApprovalsPage(Approvals approvals) {
        this.approvals = approvals;
    }

    @GetMapping("/console/approvals")
    public String list(Principal who, Model model) {
        Approver user = Approver.of(who);
        model.addAttribute("user", user);
        model.addAttribute("approvals", approvals.awaiting(user.masked(), ApprovalsApi.PAGE_SIZE));
        model.addAttribute("pageSize", ApprovalsApi.PAGE_SIZE);
        return "approvals";
    }

    @PostMapping("/console/approvals/{id}/{decision:approve|reject}")
    public String decide(@PathVariable long id, @PathVariable String decision, @RequestParam(required = false) String comment,
                         Principal who, RedirectAttributes flash) {
        Approver user = Approver.of(who);
        try {
            Approvals.Decision done = decision.equals("approve") ? approvals.approve(id, user.name(), comment)
                    : approvals.reject(id, user.name(), comment);
            flash.addFlashAttribute("message", done.message());
        } catch (ApprovalRefused e) {
            flash.addFlashAttribute("error", e.getMessage());
        }
        return "redirect:/console/approvals";
    }
}
