package ai.pela.spark.data;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Against PIL 9.4's {@code Image.resize(..., Image.BILINEAR)} on a 9×7 test pattern. Reference values from Debian's
 * python3-pil:
 * <pre>
 * img = Image.new("RGB", (9, 7)); img.putdata([((x*37 + y*11) % 256, (x*x*5 + y*29) % 256, (x*y*13 + 7) % 256)
 *                                              for y in range(7) for x in range(9)])
 * img.resize((4, 3), Image.BILINEAR)                        # DOWN
 * img.crop((2, 1, 8, 6)).resize((5, 5), Image.BILINEAR)     # CROP_DOWN
 * img.crop((1, 1, 4, 4)).resize((6, 6), Image.BILINEAR)     # CROP_UP
 * </pre>
 * PIL rounds to 8 bits between its two passes and this code does not, so values may differ by one.
 */
class ResamplerTest {
    private static final int[] DOWN = {40, 31, 16, 115, 70, 39, 181, 150, 64, 70, 119, 87, 64, 93, 39, 139, 132, 113,
        185, 150, 140, 79, 106, 121, 88, 155, 63, 163, 189, 147, 160, 115, 107, 66, 153, 117};
    private static final int[] CROP_DOWN = {93, 54, 36, 135, 87, 51, 178, 132, 66, 220, 189, 80, 61, 59, 95, 104, 83,
        65, 146, 116, 94, 189, 161, 124, 231, 218, 154, 72, 88, 183, 115, 112, 93, 157, 145, 138, 200, 190, 183, 242,
        83, 227, 83, 62, 70, 126, 141, 122, 168, 174, 182, 211, 219, 113, 88, 112, 44, 39, 91, 104, 137, 170, 151,
        179, 203, 134, 222, 120, 44, 99, 49, 118, 50, 120, 192};
    private static final int[] CROP_UP = {48, 34, 20, 57, 38, 23, 76, 45, 30, 94, 55, 36, 113, 68, 43, 122, 74, 46, 51,
        41, 23, 60, 45, 27, 79, 52, 36, 97, 62, 44, 116, 75, 52, 125, 81, 56, 56, 56, 30, 65, 60, 36, 84, 67, 47, 102,
        77, 59, 121, 90, 70, 130, 96, 75, 62, 70, 36, 71, 74, 44, 90, 81, 59, 108, 91, 73, 127, 104, 88, 136, 110, 95,
        67, 85, 43, 76, 89, 52, 95, 96, 70, 113, 106, 88, 132, 119, 105, 141, 125, 114, 70, 92, 46, 79, 96, 56, 98,
        103, 75, 116, 113, 95, 135, 126, 114, 144, 132, 124};

    /** Identity tables: the output is the 8-bit value itself. */
    private static final float[][] IDENTITY = new float[3][256];

    static {
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                IDENTITY[c][v] = v;
            }
        }
    }

    private static Resampler.Pixels pattern() {
        int[] data = new int[9 * 7];
        for (int y = 0; y < 7; y++) {
            for (int x = 0; x < 9; x++) {
                data[y * 9 + x] = (x * 37 + y * 11) % 256 << 16 | (x * x * 5 + y * 29) % 256 << 8 | (x * y * 13 + 7) % 256;
            }
        }
        return new Resampler.Pixels(data, 0, 9, 9, 7);
    }

    /** Runs the resampler for a square window and checks it against PIL's W×H output at (winX, winY). */
    private static void check(Resampler.Box box, int outW, int outH, int winX, int winY, int size, int[] pil) {
        float[] out = new float[3 * size * size];
        Resampler.resample(pattern(), box, outW, outH, winX, winY, size, false, IDENTITY, out, 0);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    int expected = pil[((winY + y) * outW + winX + x) * 3 + c];
                    assertThat(out[(c * size + y) * size + x]).as("c=%d y=%d x=%d", c, y, x)
                            .isCloseTo(expected, org.assertj.core.data.Offset.offset(1.0f));
                }
            }
        }
    }

    @Test
    void downscaleMatchesPil() {
        Resampler.Box whole = new Resampler.Box(0, 0, 9, 7);
        check(whole, 4, 3, 0, 0, 3, DOWN);
        check(whole, 4, 3, 1, 0, 3, DOWN);
    }

    @Test
    void cropThenResizeMatchesPilDownAndUp() {
        check(new Resampler.Box(2, 1, 6, 5), 5, 5, 0, 0, 5, CROP_DOWN);
        check(new Resampler.Box(1, 1, 3, 3), 6, 6, 0, 0, 6, CROP_UP);
        check(new Resampler.Box(1, 1, 3, 3), 6, 6, 2, 1, 4, CROP_UP);
    }

    @Test
    void flipMirrorsEachRow() {
        Resampler.Box box = new Resampler.Box(1, 0, 7, 7);
        float[] plain = new float[3 * 5 * 5];
        float[] flipped = new float[3 * 5 * 5];
        Resampler.resample(pattern(), box, 5, 5, 0, 0, 5, false, IDENTITY, plain, 0);
        Resampler.resample(pattern(), box, 5, 5, 0, 0, 5, true, IDENTITY, flipped, 0);
        for (int row = 0; row < 15; row++) {
            for (int x = 0; x < 5; x++) {
                assertThat(flipped[row * 5 + x]).isEqualTo(plain[row * 5 + 4 - x]);
            }
        }
    }

    @Test
    void downscalingAveragesInsteadOfAliasing() {
        int[] checker = new int[64 * 64];
        for (int i = 0; i < checker.length; i++) {
            checker[i] = ((i % 64 + i / 64) % 2 == 0) ? 0xffffff : 0;
        }
        float[] out = new float[3 * 8 * 8];
        Resampler.resample(new Resampler.Pixels(checker, 0, 64, 64, 64), new Resampler.Box(0, 0, 64, 64), 8, 8, 0, 0,
                8, false, IDENTITY, out, 0);
        for (float v : out) {
            assertThat(v).isBetween(120f, 135f);
        }
    }
}
