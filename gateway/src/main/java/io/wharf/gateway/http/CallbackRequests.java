package io.wharf.gateway.http;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;

/**
 * Which callback URLs the gateway will POST results to: http or https, to a host whose every address is of a kind
 * the operator allows (public, private, loopback). Checked when the call comes, so a refused one is a 400 then, and
 * again before each delivery, since a name may resolve elsewhere later.
 */
public final class CallbackRequests {
    /** The kinds of address a callback may reach. */
    public enum Reach { PUBLIC, PRIVATE, LOOPBACK }

    private final List<Reach> allowed;

    public CallbackRequests(List<Reach> allowed) {
        this.allowed = List.copyOf(allowed);
    }

    /**
     * The URL, if the gateway may call it.
     *
     * @throws ApiError 400 naming what is wrong with it
     */
    public URI check(String url) {
        URI uri;
        try {
            uri = new URI(url.strip());
        } catch (URISyntaxException e) {
            throw ApiError.badRequest("X-Callback-Url '" + url + "' is not a URL (" + e.getReason() + "): give an absolute http:// or https:// URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
            throw ApiError.badRequest("X-Callback-Url '" + url + "' must be an absolute http:// or https:// URL");
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(uri.getHost());
        } catch (UnknownHostException e) {
            throw ApiError.badRequest("X-Callback-Url's host " + uri.getHost() + " does not resolve");
        }
        for (InetAddress address : addresses) {
            Reach reach = reach(address);
            if (!allowed.contains(reach)) {
                throw ApiError.badRequest("X-Callback-Url's host " + uri.getHost() + " is a " + reach.name().toLowerCase(Locale.ROOT)
                        + " address (" + address.getHostAddress() + "), which this gateway's operator does not allow callbacks to "
                        + "(wharf.gateway.callbacks.allow)");
            }
        }
        return uri;
    }

    static Reach reach(InetAddress address) {
        if (address.isLoopbackAddress()) {
            return Reach.LOOPBACK;
        }
        byte[] raw = address.getAddress();
        boolean uniqueLocalV6 = raw.length == 16 && (raw[0] & 0xfe) == 0xfc;
        if (address.isSiteLocalAddress() || address.isLinkLocalAddress() || address.isAnyLocalAddress() || uniqueLocalV6
                || address.isMulticastAddress()) {
            return Reach.PRIVATE;
        }
        return Reach.PUBLIC;
    }
}
