package io.herald.logging;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.LoggerContextVO;
import org.slf4j.Marker;
import org.slf4j.event.KeyValuePair;
import org.slf4j.helpers.MessageFormatter;

/**
 * A log event as every encoder should see it: its message, arguments, MDC and key-value pairs, and its
 * exception's message with every cause and suppressed exception, passed through {@link Masking} and {@link LogSecrets}. Text and
 * JSON output both render from this view, so neither can print a full email or phone number. A logged value's line breaks
 * are escaped ({@link LogLineBreaks}), so data cannot forge a log line.
 */
final class MaskedLoggingEvent implements ILoggingEvent {

    private final ILoggingEvent event;
    private final LogSecrets secrets;
    private final IThrowableProxy throwable;
    private String formatted;

    MaskedLoggingEvent(ILoggingEvent event, LogSecrets secrets) {
        this.event = event;
        this.secrets = secrets;
        this.throwable = MaskedThrowable.of(event.getThrowableProxy(), secrets);
    }

    @Override
    public String getFormattedMessage() {
        if (formatted == null) {
            Object[] arguments = event.getArgumentArray();
            // The values are put into the message with their line breaks escaped: a value never starts a log line of its own.
            formatted = secrets.mask(arguments == null || arguments.length == 0 ? event.getFormattedMessage()
                    : MessageFormatter.basicArrayFormat(event.getMessage(), LogLineBreaks.escaped(arguments, secrets::mask)));
        }
        return formatted;
    }

    @Override
    public String getMessage() {
        return secrets.mask(event.getMessage());
    }

    @Override
    public Object[] getArgumentArray() {
        Object[] arguments = event.getArgumentArray();
        return arguments == null ? null
                : Arrays.stream(arguments).map(a -> a == null ? null : LogLineBreaks.escaped(secrets.mask(String.valueOf(a)))).toArray();
    }

    @Override
    public IThrowableProxy getThrowableProxy() {
        return throwable;
    }

    @Override
    public Map<String, String> getMDCPropertyMap() {
        Map<String, String> mdc = event.getMDCPropertyMap();
        if (mdc == null || mdc.isEmpty()) {
            return mdc;
        }
        Map<String, String> masked = new LinkedHashMap<>();
        mdc.forEach((key, value) -> masked.put(key, secrets.mask(value)));
        return masked;
    }

    @Override
    @SuppressWarnings("deprecation")
    public Map<String, String> getMdc() {
        return getMDCPropertyMap();
    }

    @Override
    public List<KeyValuePair> getKeyValuePairs() {
        List<KeyValuePair> pairs = event.getKeyValuePairs();
        return pairs == null ? null : pairs.stream()
                .map(p -> new KeyValuePair(p.key, p.value == null ? null : secrets.mask(String.valueOf(p.value)))).toList();
    }

    @Override
    public String getThreadName() {
        return event.getThreadName();
    }

    @Override
    public Level getLevel() {
        return event.getLevel();
    }

    @Override
    public String getLoggerName() {
        return event.getLoggerName();
    }

    @Override
    public LoggerContextVO getLoggerContextVO() {
        return event.getLoggerContextVO();
    }

    @Override
    public StackTraceElement[] getCallerData() {
        return event.getCallerData();
    }

    @Override
    public boolean hasCallerData() {
        return event.hasCallerData();
    }

    @Override
    public List<Marker> getMarkerList() {
        return event.getMarkerList();
    }

    @Override
    public long getTimeStamp() {
        return event.getTimeStamp();
    }

    @Override
    public int getNanoseconds() {
        return event.getNanoseconds();
    }

    @Override
    public java.time.Instant getInstant() {
        return event.getInstant();
    }

    @Override
    public long getSequenceNumber() {
        return event.getSequenceNumber();
    }

    @Override
    public void prepareForDeferredProcessing() {
        event.prepareForDeferredProcessing();
    }
}
