package io.herald.approval;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.console.ViewerMasking;
import io.herald.dispatch.MessagePreview;
import io.herald.identity.Customer;
import io.herald.identity.CustomerDirectory;
import io.herald.identity.CustomerNames;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.InvalidNotification;
import io.herald.notification.NotificationCatalog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * What an approver is shown, for a held notification (Approvals) and a held resend (ResendApprovals) alike: per channel
 * the recipient and the message as it would be sent now, or why it cannot be; masked for viewers, with the digest of the
 * unmasked text an approval pins (null for viewers, who cannot approve).
 */
@Component
class ApprovalPreviews {

    /** The previews of the channels asked for, and the digest of what they show (null when masked). */
    record Shown(List<MessagePreview.Channel> channels, String digest) {
    }

    private static final Logger log = LoggerFactory.getLogger(ApprovalPreviews.class);

    private final NotificationCatalog catalog;
    private final CustomerDirectory directory;
    private final CustomerNames customerNames;
    private final MessagePreview preview;
    private final ViewerMasking masking;
    private final ObjectMapper json;

    ApprovalPreviews(NotificationCatalog catalog, CustomerDirectory directory, CustomerNames customerNames, MessagePreview preview,
                     ViewerMasking masking, ObjectMapper json) {
        this.customerNames = customerNames;
        this.catalog = catalog;
        this.directory = directory;
        this.preview = preview;
        this.masking = masking;
        this.json = json;
    }

    /**
     * A person's free text about this customer's notification (the comment of a resend awaiting approval) as the reader sees
     * it: for a viewer, emails, phone numbers and the customer's names masked ("R••• rang"), as the notification's timeline
     * shows the same comment.
     */
    String comment(String text, String customerId, boolean masked) {
        if (!masked || text == null) {
            return text;
        }
        return masking.message(text, customerNames.of(customerId));
    }

    /** {@code canonical}: the notification's stored canonical form (herald_canonical), as text. */
    Shown of(long notificationId, String type, String canonical, List<String> channels, boolean masked) {
        List<MessagePreview.Channel> previews;
        List<String> names = new ArrayList<>();
        try {
            CanonicalNotification notification = json.readValue(canonical, CanonicalNotification.class);
            Customer customer = directory.find(notification.customerId()).orElse(null);
            names.addAll(customerNames.of(notification.customerId()));
            previews = preview.of(notification, catalog.entry(type), channels, customer);
        } catch (InvalidNotification e) {
            previews = channels.stream().map(c -> MessagePreview.Channel.failing(c, null, null,
                    "type " + type + " is no longer in the notification catalog: it cannot be sent; reject it")).toList();
        } catch (Exception e) {
            log.warn("Notification {}: its stored canonical form could not be read for the approval preview", notificationId, e);
            previews = channels.stream().map(c -> MessagePreview.Channel.failing(c, null, null,
                    "its stored notification cannot be read, so the message cannot be shown; reject it")).toList();
        }
        if (!masked) {
            return new Shown(previews, PreviewDigest.of(previews));
        }
        return new Shown(previews.stream().map(p -> p.shownAs(p.recipientMasked(), masking.message(p.headline(), names),
                masking.message(p.text(), names), masking.text(p.problem()))).toList(), null);
    }

    /**
     * Refuses an approval of {@code what} (e.g. "notification 12") when a channel it would release cannot be sent as things
     * are: approved, it would only fail. The approver fixes what the preview names, or rejects it.
     */
    static void requireSendable(String what, List<MessagePreview.Channel> channels) {
        channels.stream().filter(MessagePreview.Channel::wouldFail).findFirst().ifPresent(channel -> {
            throw new ApprovalRefused(org.springframework.http.HttpStatus.CONFLICT, what + " cannot be approved as it is: "
                    + channel.channel() + ": " + channel.problem() + ". Or reject it, and it is not sent");
        });
    }
}
