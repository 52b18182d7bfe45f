package io.herald.dispatch;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/** PLACEHOLDER (per JVM) until the PostgreSQL-backed limiter lands: permits per channel per second. */
@Component
public class ProviderRateLimits {

    private final Environment env;
    private final Map<String, long[]> windows = new ConcurrentHashMap<>();

    public ProviderRateLimits(Environment env) {
        this.env = env;
    }

    public synchronized int take(String channel, int wanted) {
        int rate = env.getProperty("herald." + ChannelSettings.of(channel) + ".rate-per-second", Integer.class, 10);
        long second = System.currentTimeMillis() / 1000;
        long[] window = windows.computeIfAbsent(channel, c -> new long[2]);
        if (window[0] != second) {
            window[0] = second;
            window[1] = 0;
        }
        int granted = (int) Math.max(0, Math.min(wanted, rate - window[1]));
        window[1] += granted;
        return granted;
    }

    public synchronized void giveBack(String channel, int unused) {
        long[] window = windows.get(channel);
        if (window != null) {
            window[1] = Math.max(0, window[1] - unused);
        }
    }

    public long millisUntilNext(String channel) {
        return 1000 - System.currentTimeMillis() % 1000;
    }
}
