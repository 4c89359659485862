package ai.pela.spark.data;

/**
 * Separable resampling with PIL's antialiased bilinear filter (a triangle whose support widens with the
 * downscale factor), the filter torchvision applies when it resizes a PIL image. Plain 2×2 bilinear would alias
 * badly when a 500-pixel photo becomes 224 pixels, and the networks were trained on PIL's output.
 *
 * <p>It resamples a source box to a virtual output of {@code outW × outH} but computes only the window
 * {@code [winX, winX+size) × [winY, winY+size)} of it, so "resize, then crop" never produces pixels that the crop
 * throws away. Arithmetic is in float; the result is rounded to 8 bits, as PIL's is, before normalisation.
 */
final class Resampler {
    /** Source pixels packed 0xRRGGBB: pixel (x, y) is {@code data[offset + y * stride + x]}. */
    record Pixels(int[] data, int offset, int stride, int width, int height) {
    }

    /** A rectangle in source pixels. */
    record Box(int x, int y, int w, int h) {
    }

    /** For each output coordinate: the first source coordinate, the number of taps and their weights. */
    record Coefficients(int[] start, int[] count, float[] weights, int taps) {
        /** The coefficients along one axis for outputs {@code win .. win+n-1} of {@code outSize}. */
        static Coefficients of(int boxStart, int inSize, int outSize, int win, int n) {
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = filterScale; // the triangle's support is 1 at scale 1
            int taps = (int) Math.ceil(support) * 2 + 1;
            int[] start = new int[n];
            int[] count = new int[n];
            float[] weights = new float[n * taps];
            for (int k = 0; k < n; k++) {
                double center = (win + k + 0.5) * scale;
                int min = Math.max((int) (center - support + 0.5), 0);
                int max = Math.min((int) (center + support + 0.5), inSize);
                double[] w = new double[max - min];
                double sum = 0;
                for (int t = 0; t < w.length; t++) {
                    w[t] = triangle((t + min - center + 0.5) / filterScale);
                    sum += w[t];
                }
                for (int t = 0; t < w.length; t++) {
                    weights[k * taps + t] = (float) (sum == 0 ? 0 : w[t] / sum);
                }
                start[k] = boxStart + min;
                count[k] = w.length;
            }
            return new Coefficients(start, count, weights, taps);
        }

        int end() {
            int last = start.length - 1;
            return start[last] + count[last];
        }
    }

    private Resampler() {
    }

    private static double triangle(double x) {
        double a = Math.abs(x);
        return a < 1 ? 1 - a : 0;
    }

    /**
     * Writes the window into {@code out} at {@code offset} as three planes (CHW) of {@code size × size} floats,
     * mirrored left-right if {@code flip}, each 8-bit value mapped through its channel's table {@code lut}.
     */
    static void resample(Pixels src, Box box, int outW, int outH, int winX, int winY, int size, boolean flip,
            float[][] lut, float[] out, int offset) {
        resample(src, box, outW, outH, winX, winY, size, size, size, flip, lut, out, offset);
    }

    /**
     * The general form: a {@code winW × winH} window, written at the top-left of three planes of
     * {@code canvas × canvas} floats (the rest of the planes is left as it is: a dense model's letterbox padding).
     */
    static void resample(Pixels src, Box box, int outW, int outH, int winX, int winY, int winW, int winH, int canvas,
            boolean flip, float[][] lut, float[] out, int offset) {
        Coefficients cx = Coefficients.of(box.x(), box.w(), outW, winX, winW);
        Coefficients cy = Coefficients.of(box.y(), box.h(), outH, winY, winH);
        int firstRow = cy.start()[0];
        int rows = cy.end() - firstRow;
        float[][] tmp = horizontal(src, cx, firstRow, rows, winW);
        vertical(tmp, cy, firstRow, winW, winH, canvas, flip, lut, out, offset);
    }

    /** Resamples each needed source row to {@code size} columns; one plane per channel, rows × size. */
    private static float[][] horizontal(Pixels src, Coefficients cx, int firstRow, int rows, int size) {
        float[] r = new float[rows * size];
        float[] g = new float[rows * size];
        float[] b = new float[rows * size];
        int[] data = src.data();
        float[] wt = cx.weights();
        for (int row = 0; row < rows; row++) {
            int line = src.offset() + (firstRow + row) * src.stride();
            int o = row * size;
            for (int x = 0; x < size; x++) {
                float sr = 0;
                float sg = 0;
                float sb = 0;
                int p = line + cx.start()[x];
                int wi = x * cx.taps();
                for (int t = 0, n = cx.count()[x]; t < n; t++) {
                    int v = data[p + t];
                    float w = wt[wi + t];
                    sr += w * ((v >>> 16) & 0xff);
                    sg += w * ((v >>> 8) & 0xff);
                    sb += w * (v & 0xff);
                }
                r[o + x] = sr;
                g[o + x] = sg;
                b[o + x] = sb;
            }
        }
        return new float[][] {r, g, b};
    }

    private static void vertical(float[][] tmp, Coefficients cy, int firstRow, int width, int height, int canvas,
            boolean flip, float[][] lut, float[] out, int offset) {
        float[] acc = new float[width];
        int plane = canvas * canvas;
        for (int c = 0; c < 3; c++) {
            float[] t = tmp[c];
            float[] table = lut[c];
            for (int y = 0; y < height; y++) {
                java.util.Arrays.fill(acc, 0f);
                int wi = y * cy.taps();
                for (int k = 0, n = cy.count()[y]; k < n; k++) {
                    float w = cy.weights()[wi + k];
                    int rowStart = (cy.start()[y] - firstRow + k) * width;
                    for (int x = 0; x < width; x++) {
                        acc[x] += w * t[rowStart + x];
                    }
                }
                int o = offset + c * plane + y * canvas;
                for (int x = 0; x < width; x++) {
                    out[o + (flip ? width - 1 - x : x)] = table[to8(acc[x])];
                }
            }
        }
    }

    private static int to8(float v) {
        int i = (int) (v + 0.5f);
        return i < 0 ? 0 : Math.min(i, 255);
    }
}
