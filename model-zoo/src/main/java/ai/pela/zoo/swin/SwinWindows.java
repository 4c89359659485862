package ai.pela.zoo.swin;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The index arithmetic of Swin's shifted windows, as the official code defines it, on token grids stored row by row
 * ([N·res·res, C], token (h, w) of image n at row {@code n·res² + h·res + w}).
 *
 * <p>The official code rolls the grid by −shift and cuts it into windows (two copies); here both are one
 * permutation of rows, {@link #windowOrder}: row r of the windowed matrix is token {@code order[r]}. Its reverse
 * (window reverse, roll back) scatters through the same permutation, i.e. gathers through {@link #inverse}.
 * The buffers real checkpoints carry ({@code attn.relative_position_index}, {@code attn_mask}) are
 * {@link #relativePositionIndex} and {@link #shiftMask}.
 */
public final class SwinWindows {
    private SwinWindows() {
    }

    /**
     * Windowed row r → token row, for {@code n} images of a res×res grid cut into window×window windows after a
     * cyclic shift by −shift: r = ((image·windowsPerSide + wh)·windowsPerSide + ww)·window² + i·window + j.
     */
    public static int[] windowOrder(int n, int res, int window, int shift) {
        int per = res / window;
        int tokens = res * res;
        int[] order = new int[n * tokens];
        int r = 0;
        for (int img = 0; img < n; img++) {
            for (int wh = 0; wh < per; wh++) {
                for (int ww = 0; ww < per; ww++) {
                    for (int i = 0; i < window; i++) {
                        for (int j = 0; j < window; j++) {
                            int h = (wh * window + i + shift) % res;
                            int w = (ww * window + j + shift) % res;
                            order[r++] = img * tokens + h * res + w;
                        }
                    }
                }
            }
        }
        return order;
    }

    /**
     * PatchMerging's gather: the merged matrix [N·(res/2)², 4C] seen as [N·res², C] rows, merged token (i, j) taking
     * x[2i, 2j], x[2i+1, 2j], x[2i, 2j+1], x[2i+1, 2j+1] in that order (the official concatenation order).
     */
    public static int[] mergeOrder(int n, int res) {
        int half = res / 2;
        int[] dh = {0, 1, 0, 1};
        int[] dw = {0, 0, 1, 1};
        int[] order = new int[n * res * res];
        int r = 0;
        for (int img = 0; img < n; img++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < half; j++) {
                    for (int q = 0; q < 4; q++) {
                        order[r++] = img * res * res + (2 * i + dh[q]) * res + 2 * j + dw[q];
                    }
                }
            }
        }
        return order;
    }

    /** The inverse permutation: {@code inverse[order[r]] = r}. */
    public static int[] inverse(int[] order) {
        int[] inv = new int[order.length];
        for (int r = 0; r < order.length; r++) {
            inv[order[r]] = r;
        }
        return inv;
    }

    /**
     * The official {@code relative_position_index} [window², window²], flattened: the bias-table row of the pair of
     * window positions (h1, w1), (h2, w2) is {@code (h1 − h2 + window − 1)·(2·window − 1) + (w1 − w2 + window − 1)}.
     */
    public static int[] relativePositionIndex(int window) {
        int t = window * window;
        int[] index = new int[t * t];
        for (int a = 0; a < t; a++) {
            for (int b = 0; b < t; b++) {
                int dh = a / window - b / window + window - 1;
                int dw = a % window - b % window + window - 1;
                index[a * t + b] = dh * (2 * window - 1) + dw;
            }
        }
        return index;
    }

    /**
     * The official {@code attn_mask} [windows, window², window²], flattened: {@link SwinConfig#SHIFT_MASK} between two
     * positions of a window that came from different regions of the rolled grid, 0 otherwise; null without a shift.
     */
    public static float[] shiftMask(int res, int window, int shift) {
        if (shift == 0) {
            return null;
        }
        int per = res / window;
        int t = window * window;
        float[] mask = new float[per * per * t * t];
        for (int win = 0; win < per * per; win++) {
            int[] region = new int[t];
            for (int p = 0; p < t; p++) {
                int h = win / per * window + p / window;
                int w = win % per * window + p % window;
                region[p] = region(h, res, window, shift) * 3 + region(w, res, window, shift);
            }
            for (int a = 0; a < t; a++) {
                for (int b = 0; b < t; b++) {
                    mask[(win * t + a) * t + b] = region[a] == region[b] ? 0f : SwinConfig.SHIFT_MASK;
                }
            }
        }
        return mask;
    }

    /**
     * The buffers an official checkpoint carries, as this model computes them, block by block:
     * {@code layers.s.blocks.j.attn.relative_position_index} (INT64 [window², window²]) for every block and
     * {@code layers.s.blocks.j.attn_mask} (FLOAT [windows, window², window²]) for every shifted one. A loader compares
     * a checkpoint's buffers with these and drops them.
     */
    public static Map<String, INDArray> buffers(SwinConfig c) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (int s = 0; s < c.numStages(); s++) {
            int w = c.window(s);
            long t = (long) w * w;
            for (int j = 0; j < c.depths().get(s); j++) {
                String b = SwinLayout.blockPrefix(s, j);
                long[] index = Arrays.stream(relativePositionIndex(w)).asLongStream().toArray();
                out.put(b + "attn.relative_position_index", Nd4j.createFromArray(index).reshape(t, t));
                float[] mask = shiftMask(c.resolution(s), w, c.shift(s, j));
                if (mask != null) {
                    out.put(b + "attn_mask", Nd4j.createFromArray(mask).reshape(mask.length / (t * t), t, t));
                }
            }
        }
        return out;
    }

    /** The official slices (0, −window), (−window, −shift), (−shift, end) along one axis of the rolled grid. */
    private static int region(int coord, int res, int window, int shift) {
        return coord < res - window ? 0 : coord < res - shift ? 1 : 2;
    }
}
