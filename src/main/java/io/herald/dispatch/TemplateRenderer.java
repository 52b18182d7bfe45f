package io.herald.dispatch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.samskivert.mustache.Escapers;
import com.samskivert.mustache.Mustache;
import com.samskivert.mustache.MustacheException;
import com.samskivert.mustache.MustacheParseException;
import com.samskivert.mustache.Template;
import io.herald.config.HeraldSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Renders message templates from the templates folder: templates/&lt;type&gt;/&lt;channel&gt;.&lt;part&gt;.&lt;locale&gt;.mustache.
 * A message is written in one locale, chosen once per type and channel: the first of the customer's locale (de-DE),
 * its language (de) and the default locale in which every part the channel needs exists (email: subject and text).
 * Every part comes from that locale, so a German text never sits beside an English subject or HTML part; the
 * optional email.html is taken only from that locale (without it, or when it writes nothing for a message, the sender writes
 * the HTML from the text).
 * A compiled template is kept until its file changes (modification time or size), and a locale choice until a file is
 * added to or removed from the type's folder, so an edited, added or removed template applies to the next message while
 * unchanged ones are not looked for, read and compiled each time.
 * Mustache is strict for variables: a missing one is an error, never a blank in a customer's message;
 * a section ({{#x}}...{{/x}}) on a missing value or an empty text is simply left out, which is what sections are for.
 */
@Component
public class TemplateRenderer {

    /** Locale choices kept at most (customers' locales are data: a flood of odd ones empties the map, it does not grow it). */
    private static final int CHOICES_KEPT = 10_000;
    /** How long a folder must be unchanged before a locale chosen in it is kept. */
    private static final long SETTLED_MS = 2_000;

    private static final Logger log = LoggerFactory.getLogger(TemplateRenderer.class);

    private final Path root;
    private final String defaultLocale;
    // An empty text is no text: {{#ticketSubject}}...{{/ticketSubject}} is left out for "" as for a missing subject (jmustache
    // takes "" as true: a customer read 'your request #35436 ""' and 'with .').
    // A value's own full stop and the template's one after it make one (SentenceEnds): "with Sam Okafor Jr.", not "Jr..".
    // A time or an amount printed as the data holds it stops the message (RawValuePrinted): the customer reads written forms.
    // Checked where a variable is written out (the escaper), not in the formatter, which jmustache also asks whether a
    // section's value is empty ({{#nextPaymentAttempt}} is fine).
    // A written form (…Local, …LocalDate) is never raw, even where it reads like the raw form: a German SMS writes 55.000 ₩ as
    // "55.000 KRW" (GSM-7 has no ₩), and German writes 49 ISK by its code. WRITTEN holds the message's written forms while
    // it is filled on this thread.
    private static final ThreadLocal<Set<String>> WRITTEN = ThreadLocal.withInitial(Set::of);
    private final Mustache.Compiler compiler = Mustache.compiler().emptyStringIsFalse(true).withFormatter(SentenceEnds.FORMATTER)
            .withEscaper(text -> {
                checkRaw(text);
                return text;
            });
    private final Mustache.Compiler htmlCompiler = Mustache.compiler().emptyStringIsFalse(true).withFormatter(SentenceEnds.FORMATTER)
            .withEscaper(text -> {
                checkRaw(text);
                return Escapers.HTML.escape(text);
            });
    private final Map<Path, Compiled> compiled = new ConcurrentHashMap<>();

    private final Map<String, Choice> choices = new ConcurrentHashMap<>();

    /**
     * A compiled template, the version of the file it came from, whether that file was empty (blank) and whether it held only
     * comments (onlyComments).
     */
    private record Compiled(FileTime modified, long size, Template template, boolean empty, boolean onlyComments) {
    }

    /** A locale chosen for a type, channel and customer locale, and the version of the type's folder it was chosen in. */
    private record Choice(FileTime folderModified, String locale) {
    }

    @Autowired
    public TemplateRenderer(HeraldSettings settings) {
        this(settings.templatesDir(), settings.defaultLocale());
    }

    public TemplateRenderer(String root, String defaultLocale) {
        this.root = Path.of(root);
        this.defaultLocale = defaultLocale;
    }

    /** One part of the message, from the locale {@link #localeFor} chooses for this type and channel. */
    public String render(String type, String channel, String part, String locale, Map<String, Object> context) {
        return render(type, channel, part, locale, context, Set.of(), false);
    }

    /** As above; {@code words}: texts of the data that are someone's words (MessageParts), printed as written. */
    public String render(String type, String channel, String part, String locale, Map<String, Object> context, Set<String> words) {
        return render(type, channel, part, locale, context, words, false);
    }

    /**
     * {@code optional}: an optional part (email.html) whose sections all stay out for this message gives "" (its sender then
     * writes the HTML from the text) instead of failing the message, whose required parts are fine.
     */
    private String render(String type, String channel, String part, String locale, Map<String, Object> context, Set<String> words,
                          boolean optional) {
        String chosen = localeFor(type, channel, locale);
        Path file = pathOf(type, channel, part, chosen);
        if (!Files.isRegularFile(file)) {
            // Removed or renamed while messages of its type waited (queued, parked, held, awaiting approval): say how to recover.
            throw new TemplateMissing("no " + channel + " " + part + " template for " + type + " in locale "
                    + chosen + " (the message's locale for " + locale + "; looked for " + name(file) + " in the templates folder):"
                    + " add the template (or restore it), then retry this delivery; the next attempt uses it");
        }
        try {
            Set<String> written = writtenForms(context, new HashSet<>());
            written.addAll(words);
            WRITTEN.set(written);
            Compiled template = template(file, part);
            String text = SentenceEnds.tidy(template.template().execute(context)).strip();
            if (text.isEmpty()) {
                // An editor that saves in two steps empties the file first: a message sent in between went out blank. An empty
                // file is parked and tried again (TemplateEmptied); one whose sections all stay out for this message fails.
                if (template.empty()) {
                    throw new TemplateEmptied(name(file));
                }
                // Only comments: a whole file that writes nothing for any message, not one caught while being saved (those are
                // empty), so it fails like a template whose sections stay out, optional part or not (startup refuses it too).
                if (template.onlyComments()) {
                    throw new TemplateMissing("template " + name(file) + " wrote nothing for this message (it holds only comments,"
                            + " {{! ... }}): write the message in it, then retry this delivery; the next attempt uses the file as it is then");
                }
                if (optional) {
                    log.info("Template {} wrote nothing for this message (all of it is inside sections it leaves out): its HTML is"
                            + " written from the text", name(file));
                    return text;
                }
                throw new TemplateMissing("template " + name(file) + " wrote nothing for this message (all of it is inside sections"
                        + " this notification leaves out): correct the template, then retry this delivery; the next attempt uses the"
                        + " file as it is then");
            }
            if (optional && "html".equals(part) && VisibleHtml.blank(text)) {
                // The page's markup stands outside sections that all stay out: a page with nothing to read, which mail clients
                // show instead of the text. The same rule as for a template that wrote nothing.
                log.info("Template {} wrote a page with nothing to read for this message (its text is inside sections it leaves"
                        + " out): its HTML is written from the text", name(file));
                return "";
            }
            return text;
        } catch (RawValuePrinted e) {
            String field = fieldHolding(context, e.value());
            throw new TemplateMissing("template " + name(file) + " prints " + (field == null ? e.kind() : "{{" + field + "}} (" + e.kind() + ")")
                    + " as the data holds it (" + e.value() + "), not written for the customer: print "
                    + (field == null ? "its …Local form" : "{{" + field + "Local}}") + " instead (templates/README.md); the next message"
                    + " uses the corrected file. If " + (field == null ? "the field" : field) + " is someone's words that only read like "
                    + e.kind() + ", declare it kind text for its notification type in config/rules.yaml instead, and restart");
        } catch (MustacheParseException e) {
            throw new TemplateMissing("template " + name(file) + " is not valid Mustache (" + e.getMessage()
                    + "): correct the template; the next message uses the corrected file");
        } catch (MustacheException.Context e) {
            throw new TemplateMissing(unfilled(name(file), e));
        } catch (MustacheException e) {
            throw new TemplateMissing("template " + name(file) + " cannot be filled (" + e.getMessage()
                    + "): correct the template; the next message uses the corrected file");
        } catch (io.herald.config.Utf8Text.NotUtf8 e) {
            throw new TemplateMissing("template " + name(file) + " " + e.getMessage() + ": save the file as UTF-8; the next message uses"
                    + " the corrected file");
        } catch (IOException e) {
            throw new TemplateMissing("template " + name(file) + " cannot be read (it was removed or renamed while being read, or Herald may"
                    + " not read it): check that the file exists and Herald may read it, then retry this delivery");
        } finally {
            WRITTEN.remove();
        }
    }

    /** A printed value that is a raw time or amount (RawValuePrinted), unless it is one of the message's written forms. */
    private static void checkRaw(String text) {
        if (!WRITTEN.get().contains(text)) {
            RawValuePrinted.check(text);
        }
    }

    /** The text of every …Local and …LocalDate field of the context, lists and nested objects included. */
    private static Set<String> writtenForms(Map<?, ?> context, Set<String> into) {
        context.forEach((key, value) -> {
            if (value instanceof String text && key instanceof String name && (name.endsWith("Local") || name.endsWith("LocalDate"))) {
                into.add(text);
            }
            if (value instanceof Map<?, ?> inner) {
                writtenForms(inner, into);
            } else if (value instanceof List<?> list) {
                list.forEach(item -> {
                    if (item instanceof Map<?, ?> inner) {
                        writtenForms(inner, into);
                    }
                });
            }
        });
        return into;
    }

    /**
     * A variable written {{{x}}} or {{&x}}, in words with its line, or null: such a variable skips what every other one gets
     * (HTML escaping in an email's HTML, the check for raw times and amounts), so templates may not use it.
     */
    static String unescaped(String file, String text) {
        int at = text.indexOf("{{{");
        int amp = text.indexOf("{{&");
        int first = at < 0 ? amp : amp < 0 ? at : Math.min(at, amp);
        if (first < 0) {
            return null;
        }
        long line = text.substring(0, first).chars().filter(c -> c == '\n').count() + 1;
        return "template " + file + " line " + line + " writes a variable unescaped ({{{...}}} or {{&...}}), which skips HTML escaping and"
                + " the check for raw times and amounts: write it {{...}}";
    }

    /**
     * A template as the reasons of deliveries and approval previews name it: its path inside the templates folder
     * ("billing.charge_refunded/email.subject.en.mustache"), which an operator finds in the templates they ship, not where
     * this server happens to keep the folder.
     */
    String name(Path file) {
        Path inside = root.toAbsolutePath().normalize().relativize(file.toAbsolutePath().normalize());
        return inside.toString().replace('\\', '/');
    }

    /** The templates folder, herald.templates-dir. */
    public Path folder() {
        return root;
    }

    /** The folders in the templates folder (one per type, or per a type's templates key), sorted; none when it cannot be read. */
    public List<String> folders() {
        try (var entries = Files.list(root)) {
            return entries.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(name -> !name.startsWith("."))
                    .sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The name of the field (at any depth: a digest's items, an order's lines) whose value this is; null when none is. */
    private static String fieldHolding(Map<String, ?> context, String value) {
        for (Map.Entry<String, ?> entry : context.entrySet()) {
            if (value.equals(entry.getValue())) {
                return entry.getKey();
            }
        }
        for (Object nested : context.values()) {
            for (Object map : nested instanceof List<?> list ? list : List.of(nested)) {
                if (map instanceof Map<?, ?> inner) {
                    @SuppressWarnings("unchecked")
                    String found = fieldHolding((Map<String, ?>) inner, value);
                    if (found != null) {
                        return found;
                    }
                }
            }
        }
        return null;
    }

    /** A variable the notification does not have, in words: which one, where, and the three ways to fix it. */
    private static String unfilled(String file, MustacheException.Context e) {
        String variable = e.key == null || e.key.isBlank() ? "a variable" : "{{" + e.key + "}}";
        return "template " + file + " cannot be filled: line " + e.lineNo + " uses " + variable
                + ", which this notification does not have or leaves empty: correct the name, add it to the source's mapping, or put"
                + " it inside a section ({{#" + e.key + "}}...{{/" + e.key + "}}) so that it is left out when missing";
    }

    /** The compiled template, compiled again only when the file changed since (checked on every render). */
    private Compiled template(Path file, String part) throws IOException {
        BasicFileAttributes now = Files.readAttributes(file, BasicFileAttributes.class);
        Compiled kept = compiled.get(file);
        if (kept == null || !kept.modified().equals(now.lastModifiedTime()) || kept.size() != now.size()) {
            Mustache.Compiler engine = part.equals("html") ? htmlCompiler : compiler;
            String text = withoutByteOrderMark(io.herald.config.Utf8Text.read(file));
            String unescaped = unescaped(name(file), text);
            if (unescaped != null) {
                throw new TemplateMissing(unescaped + "; the next message uses the corrected file");
            }
            kept = new Compiled(now.lastModifiedTime(), now.size(), compile(engine, text), text.isBlank(), onlyComments(text));
            compiled.put(file, kept);
        }
        return kept;
    }

    /**
     * A template's text without the byte order mark some Windows editors write first (U+FEFF): it is no part of the message,
     * and kept, it started the email's text and HTML and the push and in-app bodies with an invisible character.
     */
    private static String withoutByteOrderMark(String text) {
        return text.startsWith("\uFEFF") ? text.substring(1) : text;
    }

    /**
     * The template compiled, refusing one with a tag that is never closed: the engine takes it for text, so a file cut off
     * inside a tag (a save stopped half-way, "your invoice {{invoiceNumb") sent the braces to the customer. The tags are
     * those in force where they stand: after {{=<% %>=}} a "{{" is text the template may write, and "<%invoiceNumb" is the
     * tag cut off.
     */
    private static Template compile(Mustache.Compiler engine, String text) {
        String open = "{{";
        String close = "}}";
        int at = 0;
        while ((at = text.indexOf(open, at)) >= 0) {
            int end = text.indexOf(close, at + open.length());
            if (end < 0) {
                long line = text.substring(0, at).chars().filter(c -> c == '\n').count() + 1;
                throw new MustacheParseException("it has a " + open + " that is never closed, as in a file cut off while being saved",
                        (int) line);
            }
            String tag = text.substring(at + open.length(), end).strip();
            int after = end + close.length();
            if (tag.length() > 2 && tag.startsWith("=") && tag.endsWith("=")) {   // a set-delimiter tag: {{=<% %>=}}
                String[] delimiters = tag.substring(1, tag.length() - 1).strip().split("\\s+");
                if (delimiters.length == 2) {
                    open = delimiters[0];
                    close = delimiters[1];
                }
            }
            at = after;
        }
        return engine.compile(text);
    }

    /**
     * Whether a template that is not blank holds nothing but comments ({{! ... }}), changes of its tag delimiters
     * ({{=<% %>=}}) and whitespace: it writes nothing for any message. The tags are those in force where they stand, as in
     * compile; a file cut off inside a tag is not one (compile refuses it).
     */
    static boolean onlyComments(String text) {
        if (text.isBlank()) {
            return false;
        }
        String open = "{{";
        String close = "}}";
        StringBuilder outside = new StringBuilder();
        int at = 0;
        int start;
        while ((start = text.indexOf(open, at)) >= 0) {
            outside.append(text, at, start);
            int end = text.indexOf(close, start + open.length());
            if (end < 0) {
                return false;
            }
            String tag = text.substring(start + open.length(), end).strip();
            if (tag.length() > 2 && tag.startsWith("=") && tag.endsWith("=")) {
                String[] delimiters = tag.substring(1, tag.length() - 1).strip().split("\\s+");
                if (delimiters.length == 2) {
                    open = delimiters[0];
                    close = delimiters[1];
                }
            } else if (!tag.startsWith("!")) {
                return false;
            }
            at = end + close.length();
        }
        return outside.append(text, at, text.length()).toString().isBlank();
    }

    /**
     * Like render, for an optional part (email.html): empty when the message's locale has no such template (never another
     * locale's), or when its template writes nothing for this message because all of it is inside sections the message leaves
     * out, or writes a page with nothing to read (its markup outside those sections; VisibleHtml): a blank HTML part is what
     * mail clients show instead of the text. An emptied file is parked as for any part.
     */
    public Optional<String> renderOptional(String type, String channel, String part, String locale, Map<String, Object> context) {
        return renderOptional(type, channel, part, locale, context, Set.of());
    }

    /** As above, with the data's words printed as written (render). */
    public Optional<String> renderOptional(String type, String channel, String part, String locale, Map<String, Object> context,
                                           Set<String> words) {
        return exists(type, channel, part, localeFor(type, channel, locale))
                ? Optional.of(render(type, channel, part, locale, context, words, true)).filter(text -> !text.isEmpty())
                : Optional.empty();
    }

    /**
     * The locale a message of this type on this channel is written in for a customer's locale: the first candidate
     * (the locale, its language, the default locale) that has every required part of the channel; the default locale
     * when none has (its missing part then fails the delivery, naming the file; the startup check prevents that).
     */
    public String localeFor(String type, String channel, String locale) {
        // Adding, removing or renaming a template changes its folder's modification time: one look at the folder instead
        // of one per candidate and part (several per message), and a new or removed locale still applies to the next one.
        FileTime folder = modified(root.resolve(type));
        String key = type + '\u0000' + channel + '\u0000' + locale;
        Choice kept = folder == null ? null : choices.get(key);
        if (kept != null && kept.folderModified().equals(folder)) {
            return kept.locale();
        }
        String chosen = choose(type, channel, locale);
        // Kept only once the folder has been still for a while: a file system that keeps times in whole seconds would
        // otherwise give a template added in the same second as this choice the folder's old time.
        if (folder != null && folder.toMillis() < System.currentTimeMillis() - SETTLED_MS) {
            if (choices.size() >= CHOICES_KEPT) {
                choices.clear();
            }
            choices.put(key, new Choice(folder, chosen));
        }
        return chosen;
    }

    private String choose(String type, String channel, String locale) {
        List<String> parts = ChannelDelivery.PARTS_BY_CHANNEL.getOrDefault(channel, List.of());
        for (String candidate : candidates(locale)) {
            if (!parts.isEmpty() && parts.stream().allMatch(part -> exists(type, channel, part, candidate))) {
                return candidate;
            }
        }
        return defaultLocale;
    }

    private static FileTime modified(Path folder) {
        try {
            return Files.getLastModifiedTime(folder);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Why the template of exactly this locale cannot be compiled, in words naming the file and line ("... line 3: Section
     * close tag with no open tag 'lines'"), or null when it compiles (or does not exist): the startup check uses it, so a
     * broken template stops Herald instead of failing every message of its type.
     */
    public String unreadable(String type, String channel, String part, String locale) {
        Path file = pathOf(type, channel, part, locale);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            String text = withoutByteOrderMark(io.herald.config.Utf8Text.read(file));
            if (text.isBlank()) {
                return file + " is empty: write the message in it (every message of its type would fail), or remove it";
            }
            compile(part.equals("html") ? htmlCompiler : compiler, text);
            if (onlyComments(text)) {
                return file + " holds only comments ({{! ... }}) and writes nothing: write the message in it (every message of its type"
                        + " would fail), or remove it";
            }
            return unescaped(file.toString(), text);
        } catch (com.samskivert.mustache.MustacheParseException e) {
            return file + " is not a template Herald can read: " + e.getMessage().replace(" @ line ", " (line ") + ")";
        } catch (io.herald.config.Utf8Text.NotUtf8 e) {
            return file + " " + e.getMessage() + ": save the file as UTF-8";
        } catch (IOException | RuntimeException e) {
            return file + " cannot be read (" + e.getClass().getSimpleName() + ")";
        }
    }

    /** Whether the template exists for exactly this locale (no fallback): the startup check uses it. */
    public boolean exists(String type, String channel, String part, String locale) {
        return Files.isRegularFile(pathOf(type, channel, part, locale));
    }

    /**
     * The locale times and amounts of that message are written in: the customer's own (en-GB, de-DE) when the message
     * is in the customer's language, else the message's locale (a de-DE customer reading the English fallback gets
     * English dates and amounts, not German ones inside English sentences). An English fallback is written in
     * international English (en-001: "Wednesday, 25 November 2026"), not in the United States' ("November 25, 2026"),
     * which bare "en" means to Java.
     */
    public Locale writingLocale(String type, String channel, String locale) {
        Locale customer = Locale.forLanguageTag(locale == null || locale.isBlank() ? defaultLocale : locale.replace('_', '-'));
        Locale message = Locale.forLanguageTag(localeFor(type, channel, locale));
        if (customer.getLanguage().equals(message.getLanguage())) {
            return customer;
        }
        return message.getLanguage().equals("en") && message.getCountry().isEmpty() ? INTERNATIONAL_ENGLISH : message;
    }

    private static final Locale INTERNATIONAL_ENGLISH = Locale.forLanguageTag("en-001");

    /** The locales that have any template of this type on this channel (from the file names), sorted. */
    public List<String> localesOf(String type, String channel) {
        try (var files = Files.list(root.resolve(type))) {
            return files.map(f -> f.getFileName().toString())
                    .filter(name -> name.startsWith(channel + ".") && name.endsWith(".mustache"))
                    .map(name -> name.substring(0, name.length() - ".mustache".length()).split("\\."))
                    .filter(pieces -> pieces.length == 3)
                    .map(pieces -> pieces[2])
                    .distinct().sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    public Path pathOf(String type, String channel, String part, String locale) {
        return root.resolve(type).resolve(channel + "." + part + "." + locale + ".mustache");
    }

    private List<String> candidates(String locale) {
        List<String> out = new ArrayList<>();
        if (locale != null && !locale.isBlank()) {
            Locale parsed = Locale.forLanguageTag(locale.replace('_', '-'));
            out.add(parsed.toLanguageTag());
            out.add(parsed.getLanguage());
        }
        out.add(defaultLocale);
        return out.stream().distinct().toList();
    }
}
