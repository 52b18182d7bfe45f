package io.herald.config;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A file an operator edits (a template, the catalog, the rules), read as UTF-8. One saved in another encoding (an old
 * editor's Windows-1252 or Latin-1, where "Grüße" is not UTF-8) is refused saying so and on which line, instead of Java's
 * "MalformedInputException: Input length = 1", or a reason that said the file had been removed or could not be read.
 */
public final class Utf8Text {

    private Utf8Text() {
    }

    /** The file is not UTF-8 text: {@link #getMessage()} says so with the line of the first character that is not. */
    public static final class NotUtf8 extends IOException {
        public NotUtf8(int line) {
            super("is not UTF-8 text (line " + line + " has a character saved in another encoding, such as Windows-1252 or Latin-1)");
        }
    }

    /**
     * Why a YAML reader failed on the file in words, when it failed because the file is not UTF-8 ("is not UTF-8 text (line
     * 3 ...): save the file as UTF-8"); null when it failed for another reason (the reader's own message says which).
     */
    public static String notUtf8(Path file, RuntimeException readFailure) {
        for (Throwable cause = readFailure; cause != null; cause = cause.getCause()) {
            if (cause instanceof java.nio.charset.CharacterCodingException) {
                try {
                    decode(Files.readAllBytes(file));
                } catch (NotUtf8 e) {
                    return e.getMessage() + ": save the file as UTF-8";
                } catch (IOException e) {
                    return null;
                }
            }
        }
        return null;
    }

    /** The file's text. */
    public static String read(Path file) throws IOException {
        return decode(Files.readAllBytes(file));
    }

    /** The bytes as UTF-8 text, or NotUtf8 naming the line of the first byte that is not UTF-8. */
    public static String decode(byte[] bytes) throws NotUtf8 {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
            int line = 1;
            for (int i = 0; i < in.position(); i++) {
                if (bytes[i] == '\n') {
                    line++;
                }
            }
            throw new NotUtf8(line);
        }
        decoder.flush(out);
        return out.flip().toString();
    }
}
