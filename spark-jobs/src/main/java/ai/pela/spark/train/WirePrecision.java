package ai.pela.spark.train;

import ai.pela.zoo.PelaException;
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
}
