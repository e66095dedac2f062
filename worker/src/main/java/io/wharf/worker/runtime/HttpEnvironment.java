package io.wharf.worker.runtime;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import io.wharf.records.HttpRequest;

/**
 * The HTTP request a job came from, as its container's environment: {@code WHARF_HTTP_METHOD}, {@code WHARF_HTTP_PATH}
 * (the part after the function's name), {@code WHARF_HTTP_QUERY} and each header as {@code WHARF_HTTP_HEADER_<NAME>}
 * (upper case, anything but letters and digits as {@code _}: {@code Content-Type} is {@code WHARF_HTTP_HEADER_CONTENT_TYPE}).
 */
public final class HttpEnvironment {
    /** Every variable of a request starts with it: what a container made before its job cannot carry. */
    public static final String PREFIX = "WHARF_HTTP_";
    /** What a variable's name may not keep: compiled once, as every header of every job goes through it. */
    private static final Pattern NOT_NAME = Pattern.compile("[^A-Z0-9]");

    private HttpEnvironment() {
    }

    /** The variables of {@code request}; none when the job did not come from HTTP. */
    public static Map<String, String> of(HttpRequest request) {
        Map<String, String> env = new LinkedHashMap<>();
        if (request == null) {
            return env;
        }
        env.put(PREFIX + "METHOD", request.getMethod());
        env.put(PREFIX + "PATH", request.getPath());
        env.put(PREFIX + "QUERY", request.getQuery());
        request.getHeaders().forEach((name, value) ->
                env.put(PREFIX + "HEADER_" + variableName(name), value.replace('\0', ' ')));
        return env;
    }

    /** A header's name as part of a variable's (an HTTP request's or an event's): upper case, anything but letters and digits as {@code _}. */
    static String variableName(String name) {
        return NOT_NAME.matcher(name.toUpperCase(Locale.ROOT)).replaceAll("_");
    }

    /** Variables as a script a shell sources: {@code export NAME='value'}, every value single-quoted, so none is code. */
    public static String script(Map<String, String> env) {
        StringBuilder script = new StringBuilder();
        env.forEach((name, value) -> script.append("export ").append(name).append("='").append(value.replace("'", "'\\''")).append("'\n"));
        return script.toString();
    }
}
