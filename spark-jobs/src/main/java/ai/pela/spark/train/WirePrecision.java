package ai.pela.spark.train;

import ai.pela.zoo.PelaException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;

/** How the ring exchange puts values on the wire: FP32, or BF16 (half the bytes, 8 significant bits). */
public enum WirePrecision {
    FP32(4), BF16(2);

    final int bytes;

    WirePrecision(int bytes) {
        this.bytes = bytes;
    }

    public static WirePrecision parse(String s, String key) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "fp32" -> FP32;
            case "bf16" -> BF16;
            default -> throw new PelaException(key + ": '" + s + "' is not a wire precision; use fp32 or bf16");
        };
    }

    /**
     * {@code a[from, to)} as little-endian bytes. A byte[] is also what Java serialisation copies fastest (a float[]
     * or short[] is converted element by element), which matters for what a task sends to the driver.
     */
    byte[] pack(float[] a, int from, int to) {
        ByteBuffer b = ByteBuffer.allocate((to - from) * bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (this == FP32) {
            b.asFloatBuffer().put(a, from, to - from);
        } else {
            for (int i = from; i < to; i++) {
                b.putShort(toBf16(a[i]));
            }
        }
        return b.array();
    }

    byte[] pack(float[] a) {
        return pack(a, 0, a.length);
    }

    /** Decodes {@code bytes} into {@code into[from, …)}, adding to what is there when {@code add}. */
    void unpack(byte[] bytes, float[] into, int from, boolean add) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int n = bytes.length / this.bytes;
        for (int i = from; i < from + n; i++) {
            float v = this == FP32 ? b.getFloat() : fromBf16(b.getShort());
            into[i] = add ? into[i] + v : v;
        }
    }

    float[] unpack(byte[] bytes) {
        float[] out = new float[bytes.length / this.bytes];
        unpack(bytes, out, 0, false);
        return out;
    }

    /** The upper half of the FP32 bits, rounded to nearest even (NaN stays NaN). */
    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    static float fromBf16(short h) {
        return Float.intBitsToFloat((h & 0xFFFF) << 16);
    }

    /** The value the wire delivers for {@code f}. */
    float round(float f) {
        return this == FP32 ? f : fromBf16(toBf16(f));
    }
}
