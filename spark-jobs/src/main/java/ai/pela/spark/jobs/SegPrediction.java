package ai.pela.spark.jobs;

import java.util.ArrayList;
import java.util.List;

/**
 * From a segmentation model's logits to a prediction per original pixel, as mmseg does it: logits (cropped to
 * the image's region of the canvas, or averaged over sliding windows) resized bilinearly to the original size
 * (align_corners=False), then the arg-max over classes.
 */
final class SegPrediction {
    private SegPrediction() {
    }

    /**
     * The classes of a {@code dstW × dstH} image from the top-left {@code regionW × regionH} of a {@code [k, rows,
     * cols]} logit block starting at {@code offset}.
     */
    static int[] argmax(float[] logits, long offset, int k, int rows, int cols, int regionW, int regionH, int dstW,
            int dstH) {
        int[] x0 = new int[dstW];
        int[] x1 = new int[dstW];
        float[] lx = new float[dstW];
        taps(regionW, dstW, x0, x1, lx);
        int[] y0 = new int[dstH];
        int[] y1 = new int[dstH];
        float[] ly = new float[dstH];
        taps(regionH, dstH, y0, y1, ly);
        int[] pred = new int[dstW * dstH];
        long plane = (long) rows * cols;
        for (int y = 0; y < dstH; y++) {
            for (int x = 0; x < dstW; x++) {
                int best = 0;
                float bestV = Float.NEGATIVE_INFINITY;
                for (int c = 0; c < k; c++) {
                    long base = offset + c * plane;
                    float top = (1 - lx[x]) * logits[(int) (base + (long) y0[y] * cols + x0[x])]
                            + lx[x] * logits[(int) (base + (long) y0[y] * cols + x1[x])];
                    float bottom = (1 - lx[x]) * logits[(int) (base + (long) y1[y] * cols + x0[x])]
                            + lx[x] * logits[(int) (base + (long) y1[y] * cols + x1[x])];
                    float v = (1 - ly[y]) * top + ly[y] * bottom;
                    if (v > bestV) {
                        bestV = v;
                        best = c;
                    }
                }
                pred[y * dstW + x] = best;
            }
        }
        return pred;
    }

    /** PyTorch's bilinear source taps for resizing {@code in} to {@code out} (align_corners=False). */
    private static void taps(int in, int out, int[] i0, int[] i1, float[] l) {
        double r = (double) in / out;
        for (int i = 0; i < out; i++) {
            double src = Math.max((i + 0.5) * r - 0.5, 0);
            i0[i] = Math.min((int) src, in - 1);
            i1[i] = Math.min(i0[i] + 1, in - 1);
            l[i] = (float) (src - i0[i]);
        }
    }

    /** mmseg's window grid: ⌈(H − s)/stride⌉ + 1 rows (and columns), the last ones moved back inside the image. */
    static List<int[]> windows(int w, int h, int s, int stride) {
        int rows = Math.max(h - s + stride - 1, 0) / stride + 1;
        int cols = Math.max(w - s + stride - 1, 0) / stride + 1;
        List<int[]> out = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int y2 = Math.min(r * stride + s, h);
                int x2 = Math.min(c * stride + s, w);
                out.add(new int[] {Math.max(x2 - s, 0), Math.max(y2 - s, 0)});
            }
        }
        return out;
    }

    /** Adds each window's logits [k, s, s] into the [k, h, w] sum and counts the windows per pixel. */
    static void accumulate(float[] logits, List<int[]> windows, int k, int s, int w, int h, float[] sum, int[] count) {
        for (int i = 0; i < windows.size(); i++) {
            int wx = windows.get(i)[0];
            int wy = windows.get(i)[1];
            for (int y = 0; y < s && wy + y < h; y++) {
                for (int x = 0; x < s && wx + x < w; x++) {
                    count[(wy + y) * w + wx + x]++;
                    for (int c = 0; c < k; c++) {
                        sum[(c * h + wy + y) * w + wx + x] += logits[((i * k + c) * s + y) * s + x];
                    }
                }
            }
        }
    }

    static void divide(float[] sum, int[] count, int k) {
        int plane = count.length;
        for (int c = 0; c < k; c++) {
            for (int p = 0; p < plane; p++) {
                sum[c * plane + p] /= count[p];
            }
        }
    }
}
