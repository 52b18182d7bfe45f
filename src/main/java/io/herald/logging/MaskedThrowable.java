package io.herald.logging;

import java.util.IdentityHashMap;
import java.util.Map;

import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;

/**
 * An exception as logged, with its message (and its cause's, and every suppressed one's) passed through
 * {@link Masking} and {@link LogSecrets}: stack traces carry the message of each exception in the chain ("Caused by: ...").
 * Class names and frames are code, not data, and stay as they are.
 */
final class MaskedThrowable implements IThrowableProxy {

    private final IThrowableProxy proxy;
    private final LogSecrets secrets;
    private final Map<IThrowableProxy, IThrowableProxy> seen;

    private MaskedThrowable(IThrowableProxy proxy, LogSecrets secrets, Map<IThrowableProxy, IThrowableProxy> seen) {
        this.proxy = proxy;
        this.secrets = secrets;
        this.seen = seen;
        seen.put(proxy, this);
    }

    static IThrowableProxy of(IThrowableProxy proxy, LogSecrets secrets) {
        return proxy == null ? null : new MaskedThrowable(proxy, secrets, new IdentityHashMap<>());
    }

    private IThrowableProxy wrap(IThrowableProxy other) {
        if (other == null) {
            return null;
        }
        IThrowableProxy known = seen.get(other);
        return known != null ? known : new MaskedThrowable(other, secrets, seen);
    }

    @Override
    public String getMessage() {
        return secrets.mask(proxy.getMessage());
    }

    @Override
    public String getOverridingMessage() {
        return secrets.mask(proxy.getOverridingMessage());
    }

    @Override
    public String getClassName() {
        return proxy.getClassName();
    }

    @Override
    public StackTraceElementProxy[] getStackTraceElementProxyArray() {
        return proxy.getStackTraceElementProxyArray();
    }

    @Override
    public int getCommonFrames() {
        return proxy.getCommonFrames();
    }

    @Override
    public IThrowableProxy getCause() {
        return wrap(proxy.getCause());
    }

    @Override
    public IThrowableProxy[] getSuppressed() {
        IThrowableProxy[] suppressed = proxy.getSuppressed();
        if (suppressed == null) {
            return null;
        }
        IThrowableProxy[] masked = new IThrowableProxy[suppressed.length];
        for (int i = 0; i < suppressed.length; i++) {
            masked[i] = wrap(suppressed[i]);
        }
        return masked;
    }

    @Override
    public boolean isCyclic() {
        return proxy.isCyclic();
    }
}
