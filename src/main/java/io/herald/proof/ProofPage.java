package io.herald.proof;

import java.security.Principal;

import io.herald.console.ConsoleUser;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.server.ResponseStatusException;

/** The printable proof of delivery of one notification (the same content as GET /api/notifications/{id}/proof). */
@Controller
public class ProofPage {

    private final DeliveryProof proof;

    public ProofPage(DeliveryProof proof) {
        this.proof = proof;
    }

    @GetMapping("/console/notifications/{id}/proof")
    public String proof(@PathVariable long id, Principal who, Model model) {
        ConsoleUser user = ConsoleUser.of(who);
        model.addAttribute("user", user);
        model.addAttribute("p", proof.of(id, user.masked(), user.role())
                .orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND, "no notification " + id)));
        return "proof";
    }
}
