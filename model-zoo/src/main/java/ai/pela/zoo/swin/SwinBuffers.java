package ai.pela.zoo.swin;

/**
 * The two buffers the official Swin computes from its configuration rather than trains: the relative position index
 * of a window (which row of the bias table each query-key pair reads) and the additive mask of a shifted block's
 * windows. Checkpoint loading compares stored buffers with these; the engine uses the same values.
 */
public final class SwinBuffers {
    private SwinBuffers() {
    }

    /**
     * {@code index[i][j]} for tokens i = (hi, wi) and j = (hj, wj) of a ws × ws window (row-major):
     * {@code (hi − hj + ws − 1) · (2ws − 1) + (wi − wj + ws − 1)}, the official code's formula.
     */
    public static long[][] relativePositionIndex(int ws) {
        int n = ws * ws;
        long[][] index = new long[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                int dh = i / ws - j / ws + ws - 1;
                int dw = i % ws - j % ws + ws - 1;
                index[i][j] = (long) dh * (2 * ws - 1) + dw;
            }
        }
        return index;
    }

    /**
     * The additive attention mask of a shifted block on a {@code res × res} grid with window {@code ws} and shift
     * {@code shift}: {@code [windows][ws²][ws²]}, 0 where both tokens come from the same region of the rolled image
     * and {@link SwinConfig#SHIFT_MASK} where not. Windows are in row-major order over the grid, as the official
     * window_partition lays them out. Null when nothing shifts (the official code has no mask then).
     */
    public static float[][][] attentionMask(int res, int ws, int shift) {
        if (shift == 0) {
            return null;
        }
        int perSide = res / ws;
        float[][][] mask = new float[perSide * perSide][ws * ws][ws * ws];
        for (int wh = 0; wh < perSide; wh++) {
            for (int ww = 0; ww < perSide; ww++) {
                int[] region = new int[ws * ws];
                for (int t = 0; t < ws * ws; t++) {
                    int r = wh * ws + t / ws;
                    int c = ww * ws + t % ws;
                    region[t] = 3 * band(r, res, ws, shift) + band(c, res, ws, shift);
                }
                float[][] m = mask[wh * perSide + ww];
                for (int i = 0; i < ws * ws; i++) {
                    for (int j = 0; j < ws * ws; j++) {
                        m[i][j] = region[i] == region[j] ? 0f : SwinConfig.SHIFT_MASK;
                    }
                }
            }
        }
        return mask;
    }

    /** Which of the three slices [0, res−ws), [res−ws, res−shift), [res−shift, res) a row or column falls in. */
    private static int band(int x, int res, int ws, int shift) {
        if (x < res - ws) {
            return 0;
        }
        return x < res - shift ? 1 : 2;
    }

    /** The mask of block (s, j) of {@code c}, or null where the block does not shift. */
    public static float[][][] attentionMask(SwinConfig c, int s, int j) {
        return attentionMask(c.resolution(s), c.window(s), c.shift(s, j));
    }
}
