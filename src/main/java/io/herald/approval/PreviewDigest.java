package io.herald.approval;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

import io.herald.dispatch.MessagePreview;

/**
 * SHA-256 of what an approver is shown, unmasked: per channel the recipient, headline, text and problem, and every part
 * that would be sent (MessagePreview's partsDigest: an email's HTML too). The approver's
 * decision carries it back, so a message that changed after it was shown (a template, the catalog or the customer's
 * details edited) is not approved unseen.
 */
final class PreviewDigest {

    private PreviewDigest() {
    }

    /**
     * A digest an approver sends back is what of() writes, 64 hexadecimal characters, or none; anything else is refused
     * with 400 saying so (it was answered 409 "its message changed since", sending the approver to review a message that
     * had not changed).
     */
    static void requireShape(String seen) {
        if (seen != null && !seen.isBlank() && !seen.strip().matches("[0-9a-fA-F]{64}")) {
            throw new ApprovalRefused(org.springframework.http.HttpStatus.BAD_REQUEST, "previewDigest must be the 64 hexadecimal"
                    + " characters the preview shows (GET /api/approvals), or left out; was '" + io.herald.ledger.StoredText.label(seen, 20) + "'");
        }
    }

    static String of(List<MessagePreview.Channel> previews) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (MessagePreview.Channel preview : previews) {
                for (String part : new String[] {preview.channel(), preview.recipient(), preview.headline(), preview.text(), preview.problem(),
                        preview.partsDigest()}) {
                    // Each part's length first, so no two different previews give the same bytes.
                    byte[] bytes = part == null ? new byte[0] : part.getBytes(StandardCharsets.UTF_8);
                    sha.update((part == null ? "-1:" : bytes.length + ":").getBytes(StandardCharsets.US_ASCII));
                    sha.update(bytes);
                }
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this Java has no SHA-256", e);
        }
    }
}
