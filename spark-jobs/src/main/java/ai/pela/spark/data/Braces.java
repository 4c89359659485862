package ai.pela.spark.data;

import ai.pela.zoo.PelaException;
import java.util.ArrayList;
import java.util.List;

/**
 * Brace expansion of shard specs as WebDataset writes them: {@code shard-{000000..000009}.tar} (an inclusive
 * numeric range, zero-padded to the width of its bounds when either starts with 0) and {@code {train,val}} (a comma
 * list). Several groups expand left to right as a cartesian product; groups do not nest.
 */
public final class Braces {
    /** A bound on the expansion, so a typo such as {@code {0..999999999}} fails instead of exhausting memory. */
    public static final int MAX_EXPANSION = 1_000_000;

    private Braces() {
    }

    public static List<String> expand(String spec) {
        List<String> out = new ArrayList<>();
        out.add("");
        int i = 0;
        while (i < spec.length()) {
            int open = spec.indexOf('{', i);
            int closeBefore = spec.indexOf('}', i);
            if (closeBefore >= 0 && (open < 0 || closeBefore < open)) {
                throw error(spec, "'}' without '{' at position " + closeBefore);
            }
            if (open < 0) {
                out = append(out, List.of(spec.substring(i)), spec);
                break;
            }
            int close = spec.indexOf('}', open);
            if (close < 0) {
                throw error(spec, "'{' at position " + open + " is not closed");
            }
            String body = spec.substring(open + 1, close);
            if (body.indexOf('{') >= 0) {
                throw error(spec, "nested braces are not supported");
            }
            out = append(out, List.of(spec.substring(i, open)), spec);
            out = append(out, alternatives(body, spec), spec);
            i = close + 1;
        }
        return out;
    }

    private static List<String> alternatives(String body, String spec) {
        if (body.contains(",")) {
            return List.of(body.split(",", -1));
        }
        int dots = body.indexOf("..");
        if (dots < 0) {
            throw error(spec, "'{" + body + "}' is neither a range {a..b} nor a list {a,b}");
        }
        return range(body.substring(0, dots), body.substring(dots + 2), spec);
    }

    private static List<String> range(String from, String to, String spec) {
        if (!from.matches("\\d{1,18}") || !to.matches("\\d{1,18}")) {
            throw error(spec, "range {" + from + ".." + to + "} needs two non-negative integers");
        }
        long a = Long.parseLong(from);
        long b = Long.parseLong(to);
        if (Math.abs(b - a) >= MAX_EXPANSION) {
            throw error(spec, "range {" + from + ".." + to + "} has more than " + MAX_EXPANSION + " items");
        }
        boolean padded = from.startsWith("0") && from.length() > 1 || to.startsWith("0") && to.length() > 1;
        String format = padded ? "%0" + Math.max(from.length(), to.length()) + "d" : "%d";
        List<String> out = new ArrayList<>();
        long step = a <= b ? 1 : -1;
        for (long v = a; v != b + step; v += step) {
            out.add(String.format(java.util.Locale.ROOT, format, v));
        }
        return out;
    }

    private static List<String> append(List<String> prefixes, List<String> parts, String spec) {
        if ((long) prefixes.size() * parts.size() > MAX_EXPANSION) {
            throw error(spec, "expands to more than " + MAX_EXPANSION + " names");
        }
        List<String> out = new ArrayList<>(prefixes.size() * parts.size());
        for (String p : prefixes) {
            for (String s : parts) {
                out.add(p + s);
            }
        }
        return out;
    }

    private static PelaException error(String spec, String problem) {
        return new PelaException("shard spec '" + spec + "': " + problem);
    }
}
