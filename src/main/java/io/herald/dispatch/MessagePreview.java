package io.herald.dispatch;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.herald.identity.Customer;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import io.herald.receipts.Suppressions;

import org.springframework.stereotype.Component;

/**
 * What a notification would send on each of its channels, rendered exactly as its sender renders it (same
 * templates, same context, same recipient from the directory), without sending or recording anything: the
 * approver reads it before deciding (io.herald.approval). A channel that could not be sent says why instead.
 */
@Component
public class MessagePreview {

    /**
     * One channel: the recipient (and masked), the headline (subject or title) and the text, or why it would not be sent;
     * {@code wouldFail}: its send would fail as things are (its message cannot be written, its type is gone), which an approval
     * must not release (a channel that would only be skipped, no address or opted out, is a normal outcome).
     */
    public record Channel(String channel, String recipient, String recipientMasked, String headline, String text, String problem,
                          @JsonIgnore String partsDigest, @JsonIgnore boolean wouldFail) {
        /** A channel with nothing rendered (no recipient, no template): nothing more to pin than what is shown. */
        public Channel(String channel, String recipient, String recipientMasked, String headline, String text, String problem) {
            this(channel, recipient, recipientMasked, headline, text, problem, null, false);
        }

        /** A channel whose send would fail, with why and what to do. */
        public static Channel failing(String channel, String recipient, String recipientMasked, String problem) {
            return new Channel(channel, recipient, recipientMasked, null, null, problem, null, true);
        }

        /** As shown to a viewer: the same channel with these (masked) texts. */
        public Channel shownAs(String recipient, String headline, String text, String problem) {
            return new Channel(channel, recipient, recipientMasked, headline, text, problem, null, wouldFail);
        }
    }

    private final MessageParts messageParts;
    private final Suppressions suppressions;

    public MessagePreview(MessageParts messageParts, Suppressions suppressions) {
        this.messageParts = messageParts;
        this.suppressions = suppressions;
    }

    public List<Channel> of(CanonicalNotification notification, NotificationCatalog.Entry entry, List<String> channels, Customer customer) {
        List<Channel> previews = new ArrayList<>();
        for (String channel : channels) {
            if (customer == null) {
                previews.add(new Channel(channel, null, null, null, null,
                        "customer " + notification.customerId() + " is not in the directory: nothing would be sent"));
                continue;
            }
            Recipients.Address address = Recipients.of(channel, customer);
            if (!address.present()) {
                previews.add(new Channel(channel, null, null, null, null, "customer has " + address.missing() + ": it would be skipped"));
                continue;
            }
            String problem = Recipients.allowed(channel, entry.category(), customer) ? suppressed(channel, address.value())
                    : "customer opted out of " + channel + " for " + entry.category() + ": it would be skipped";
            try {
                previews.add(rendered(channel, address, messageParts.render(notification, entry.templates(), channel, customer), problem));
            } catch (TemplateMissing | MessageTooLong e) {
                String unwritten = "its message cannot be written (" + e.getMessage() + ")";
                // Opted out or suppressed, the channel is skipped before its message is written (ChannelDelivery): no send that fails.
                previews.add(problem != null ? new Channel(channel, address.value(), address.masked(), null, null, problem + "; " + unwritten)
                        : Channel.failing(channel, address.value(), address.masked(), unwritten + ": it would fail; fix the template before approving"));
            }
        }
        return previews;
    }

    /** Why the send would skip this address, as it checks it before writing the message (a hard bounce, a complaint, STOP). */
    private String suppressed(String channel, String address) {
        String reason = "email".equals(channel) || "sms".equals(channel) ? suppressions.reasonFor(channel, address) : null;
        return reason == null ? null : reason + ": it would be skipped";
    }

    /**
     * One channel's message as rendered for {@code address}: what the approver is shown and, with no problem, what its
     * sender is about to send (ChannelDelivery compares the two through the approval's digests before claiming it).
     */
    static Channel rendered(String channel, Recipients.Address address, Map<String, String> parts, String problem) {
        return new Channel(channel, address.value(), address.masked(), parts.getOrDefault("subject", parts.get("title")),
                parts.getOrDefault("text", parts.get("body")), problem, digest(parts), false);
    }

    /** SHA-256 of every part that would be sent (an email's HTML too, which the preview does not show), in the parts' order. */
    private static String digest(Map<String, String> parts) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, String> part : new TreeMap<>(parts).entrySet()) {
                for (String text : new String[] {part.getKey(), part.getValue()}) {
                    byte[] bytes = text == null ? new byte[0] : text.getBytes(StandardCharsets.UTF_8);
                    sha.update((bytes.length + ":").getBytes(StandardCharsets.US_ASCII));
                    sha.update(bytes);
                }
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this Java has no SHA-256", e);
        }
    }
}
