package io.herald.ingest;

/**
 * A caller's address as the Rejected webhooks page keeps it: the address alone. A proxy may write the caller's port into
 * X-Forwarded-For ("198.51.100.7:5678", "[2001:db8::1]:443") and Tomcat's RemoteIpValve passes that through as the remote
 * address, so the page showed the port with it (and a viewer, whose view masks the machine, saw it whole).
 */
final class CallerAddress {

    private CallerAddress() {
    }

    /** "198.51.100.7:5678" → "198.51.100.7", "[2001:db8::1]:443" and "[2001:db8::1]" → "2001:db8::1"; anything else as it is. */
    static String withoutPort(String address) {
        if (address == null) {
            return null;
        }
        String kept = address.strip();
        if (kept.startsWith("[")) {
            int close = kept.indexOf(']');
            if (close > 1 && (close == kept.length() - 1 || kept.substring(close + 1).matches(":\\d{1,5}"))) {
                return kept.substring(1, close);
            }
            return address;
        }
        if (kept.matches("\\d{1,3}(\\.\\d{1,3}){3}:\\d{1,5}")) {   // IPv4 with a port; a bare IPv6 address has more than one ':'
            return kept.substring(0, kept.indexOf(':'));
        }
        return address;
    }
}
