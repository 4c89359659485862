package ai.pela.spark.train;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Fields of the ring exchange's small messages, each checked against its bounds before it is used. */
final class WireFields {
    private WireFields() {
    }

    /** A UTF-8 string of at most 65 535 bytes, length first. */
    static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > 0xFFFF) {
            throw new IllegalArgumentException("a wire string of " + b.length + " bytes");
        }
        out.writeShort(b.length);
        out.write(b);
    }

    /** Reads a string written by {@link #writeString}; refuses one longer than {@code maxBytes}. */
    static String readString(DataInputStream in, int maxBytes, String what) throws IOException {
        int n = in.readUnsignedShort();
        if (n > maxBytes) {
            throw new LinkAuth.Refused(what + " of " + n + " bytes (at most " + maxBytes + ")");
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Reads an int that must lie in [{@code min}, {@code max}]. */
    static int readInt(DataInputStream in, int min, int max, String what) throws IOException {
        int v = in.readInt();
        if (v < min || v > max) {
            throw new LinkAuth.Refused(what + " " + v + " is outside [" + min + ", " + max + "]");
        }
        return v;
    }
}
