package ai.pela.spark.data;

import ai.pela.zoo.PelaException;
import java.nio.charset.StandardCharsets;

/**
 * The two keys of a pax extended header ({@code x} entry) that matter for indexing: {@code path} (long or
 * non-ASCII names, which Python's tarfile and so WebDataset's writer put here) and {@code size}. Records are
 * {@code "<length> <key>=<value>\n"}, the length counting the whole record.
 */
record PaxHeader(String path, long size) {
    static final PaxHeader NONE = new PaxHeader(null, -1);

    static PaxHeader parse(byte[] data, String shard) {
        String path = null;
        long size = -1;
        int i = 0;
        while (i < data.length && data[i] != 0) {
            int space = indexOf(data, (byte) ' ', i);
            int length = space < 0 ? -1 : parseLength(data, i, space);
            if (length <= space - i + 1 || i + length > data.length || data[i + length - 1] != '\n') {
                throw new PelaException(shard + ": corrupt pax extended header near byte " + i + " of the record");
            }
            String record = new String(data, space + 1, i + length - space - 2, StandardCharsets.UTF_8);
            int eq = record.indexOf('=');
            String key = eq < 0 ? record : record.substring(0, eq);
            String value = eq < 0 ? "" : record.substring(eq + 1);
            if (key.equals("path")) {
                path = value;
            } else if (key.equals("size")) {
                size = parseSize(value, shard);
            }
            i += length;
        }
        return new PaxHeader(path, size);
    }

    private static int parseLength(byte[] data, int from, int to) {
        if (to - from < 1 || to - from > 9) {
            return -1;
        }
        int v = 0;
        for (int k = from; k < to; k++) {
            int d = data[k] - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            v = v * 10 + d;
        }
        return v;
    }

    private static long parseSize(String value, String shard) {
        if (!value.matches("\\d{1,18}")) {
            throw new PelaException(shard + ": corrupt pax extended header: size '" + value + "'");
        }
        return Long.parseLong(value);
    }

    private static int indexOf(byte[] data, byte b, int from) {
        for (int k = from; k < data.length; k++) {
            if (data[k] == b) {
                return k;
            }
        }
        return -1;
    }
}
