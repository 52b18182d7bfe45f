package io.herald.config;

/**
 * What a setting holding a provider's or Herald's own web address must look like: blank (not used), or an http:// or
 * https:// address with a host. "not-a-url" or "herald.example.org" (no scheme) used to start, and every SMS then failed,
 * or every alert's console link was broken.
 */
public final class WebAddresses {

    /** Blank, or http(s)://host[:port][/…] with no space: a name or an IPv4 address, or an IPv6 address in brackets. */
    public static final String HTTP = "|(?i)https?://([^\\s/?#@:\\[\\]]+|\\[[0-9a-f:.]+])(:\\d{1,5})?([/?#]\\S*)?";
    public static final String NOT_HTTP = "must be an http:// or https:// address with a host, such as https://api.example.com/v1"
            + " (written without its scheme, or with a space?)";

    private WebAddresses() {
    }
}
