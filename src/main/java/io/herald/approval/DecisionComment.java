package io.herald.approval;

import org.springframework.http.HttpStatus;

/**
 * The comment every approval and rejection needs, for the record. One with nothing readable in it is none: spaces of any
 * kind (a no-break space, a line separator), invisible characters (a zero-width space) and control characters (a bell) were
 * taken as a comment, and the record said nothing. Any letter, digit, mark or symbol in any script counts ("ok", "✓").
 */
final class DecisionComment {

    private DecisionComment() {
    }

    /** The comment, stripped; refused with 400 when it has nothing readable in it. {@code what}: "an approval", "a rejection". */
    static String required(String comment, String what) {
        String said = comment == null ? "" : comment.strip();
        if (said.codePoints().noneMatch(DecisionComment::readable)) {
            throw new ApprovalRefused(HttpStatus.BAD_REQUEST, "say why: " + what + " needs a comment for the record");
        }
        return said;
    }

    private static boolean readable(int c) {
        return !Character.isWhitespace(c) && !Character.isSpaceChar(c) && !Character.isISOControl(c)
                && Character.getType(c) != Character.FORMAT;
    }
}
