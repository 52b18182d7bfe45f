package io.herald.approval;

import java.security.Principal;

import io.herald.dispatch.DeliveryResend;
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
 * approves or rejects with a comment (audited, four eyes). Below them, operators' resends held for approval, decided the same way.
 */
@Controller
public class ApprovalsPage {

    private final Approvals approvals;
    private final ResendApprovals resends;
    private final DeliveryResend resend;
    private final io.herald.console.ResendOrdinals ordinals;

    public ApprovalsPage(Approvals approvals, ResendApprovals resends, DeliveryResend resend, io.herald.console.ResendOrdinals ordinals) {
        this.ordinals = ordinals;
        this.approvals = approvals;
        this.resends = resends;
        this.resend = resend;
    }

    @GetMapping("/console/approvals")
    public String list(Principal who, Model model) {
        Approver user = Approver.of(who);
        model.addAttribute("user", user);
        model.addAttribute("approvals", approvals.awaiting(user.masked(), ApprovalsApi.PAGE_SIZE));
        model.addAttribute("pageSize", ApprovalsApi.PAGE_SIZE);
        model.addAttribute("resends", resends.awaiting(user.masked(), ApprovalsApi.PAGE_SIZE));
        return "approvals";
    }

    @PostMapping("/console/approvals/{id}/{decision:approve|reject}")
    public String decide(@PathVariable long id, @PathVariable String decision, @RequestParam(required = false) String comment,
                         @RequestParam(required = false) String previewDigest, Principal who, RedirectAttributes flash) {
        Approver user = Approver.of(who);
        try {
            Approvals.Decision done = decision.equals("approve") ? approvals.approve(id, user, comment, previewDigest)
                    : approvals.reject(id, user.name(), comment);
            flash.addFlashAttribute("message", done.message());
        } catch (ApprovalRefused e) {
            flash.addFlashAttribute("error", e.getMessage());
        }
        return "redirect:/console/approvals";
    }

    @PostMapping("/console/approvals/resends/{id}/{decision:approve|reject}")
    public String decideResend(@PathVariable long id, @PathVariable String decision, @RequestParam(required = false) String comment,
                               @RequestParam(required = false) String previewDigest, Principal who, RedirectAttributes flash)
            throws java.io.IOException {
        Approver user = Approver.of(who);
        try {
            if (decision.equals("approve")) {
                resends.approve(id, user, comment, previewDigest);
                DeliveryResend.Result sent = resend.sendApproved(id);
                flash.addFlashAttribute("message", ordinals.ofDelivery(id) + " approved: " + sent.state()
                        + (sent.reason() == null ? "" : " (" + sent.reason() + ")"));
            } else {
                resends.reject(id, user.name(), comment);
                flash.addFlashAttribute("message", ordinals.ofDelivery(id) + " rejected: not sent");
            }
        } catch (ApprovalRefused e) {
            flash.addFlashAttribute("error", e.getMessage());
        }
        return "redirect:/console/approvals";
    }
}
