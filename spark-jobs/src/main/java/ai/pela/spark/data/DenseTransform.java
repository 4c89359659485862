package ai.pela.spark.data;

import java.awt.image.BufferedImage;
import java.io.Serializable;
import java.util.random.RandomGenerator;

/**
 * Resizing and cropping for dense tasks, one {@link Geometry} applied alike to an image (PIL's antialiased bilinear,
 * {@link Resampler}), its label map (nearest) and its boxes, so that pixels, labels and boxes stay aligned. The
 * model's input is a {@code size × size} canvas:
 * <ul>
 * <li>{@link #train}: the shorter side scaled to size × r, r uniform in [scaleMin, scaleMax] (scaleMin ≥ 1, so the
 * scaled image always covers the canvas and no padding is ever trained on), a uniformly placed size × size crop,
 * a horizontal flip with probability ½ — mmseg's RandomResize + RandomCrop + RandomFlip, on a square canvas;</li>
 * <li>{@link #letterbox}: the longer side scaled to size, the image at the top-left, the rest padded with 0 after
 * normalisation (the mean colour), as mmdet pads;</li>
 * <li>{@link #window}: a size × size window of the image scaled so that its shorter side is size (mmseg's
 * sliding-window inference).</li>
 * </ul>
 * Immutable and thread-safe.
 */
public final class DenseTransform implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * Where the canvas comes from: the source scaled to a virtual {@code outW × outH} image, of which the window
     * {@code [winX, winX + winW) × [winY, winY + winH)} lands at the canvas's top-left, mirrored if {@code flip}.
     */
    public record Geometry(int srcW, int srcH, int outW, int outH, int winX, int winY, int winW, int winH,
            boolean flip) implements Serializable {
        public double scaleX() {
            return (double) outW / srcW;
        }

        public double scaleY() {
            return (double) outH / srcH;
        }
    }

    private final int size;
    private final double[] mean;
    private final double[] std;
    private final double scaleMin;
    private final double scaleMax;
    private transient volatile float[][] lut;

    public DenseTransform(int size, double[] mean, double[] std, double scaleMin, double scaleMax) {
        if (size < 1) {
            throw new IllegalArgumentException("image size " + size + " must be positive");
        }
        if (!(scaleMin >= 1) || scaleMin > scaleMax) {
            throw new IllegalArgumentException("dense scale range must satisfy 1 <= min <= max, got [" + scaleMin
                    + ", " + scaleMax + "]");
        }
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("mean and std need 3 values (one per RGB channel)");
        }
        this.size = size;
        this.mean = mean.clone();
        this.std = std.clone();
        this.scaleMin = scaleMin;
        this.scaleMax = scaleMax;
    }

    public int size() {
        return size;
    }

    public int floatsPerImage() {
        return 3 * size * size;
    }

    public Geometry train(int w, int h, RandomGenerator rng) {
        double r = scaleMin + (scaleMax - scaleMin) * rng.nextDouble();
        double s = size * r / Math.min(w, h);
        int outW = Math.max(size, (int) Math.round(w * s));
        int outH = Math.max(size, (int) Math.round(h * s));
        int x = rng.nextInt(outW - size + 1);
        int y = rng.nextInt(outH - size + 1);
        boolean flip = rng.nextDouble() < 0.5;
        return new Geometry(w, h, outW, outH, x, y, size, size, flip);
    }

    public Geometry letterbox(int w, int h) {
        double s = (double) size / Math.max(w, h);
        int outW = Math.max(1, Math.min(size, (int) Math.round(w * s)));
        int outH = Math.max(1, Math.min(size, (int) Math.round(h * s)));
        return new Geometry(w, h, outW, outH, 0, 0, outW, outH, false);
    }

    /** The virtual size of the image with its shorter side at {@code size}: {outW, outH}. */
    public int[] slideSize(int w, int h) {
        double s = (double) size / Math.min(w, h);
        return new int[] {Math.max(size, (int) Math.round(w * s)), Math.max(size, (int) Math.round(h * s))};
    }

    /** The window at (x, y) of the image scaled by {@link #slideSize}. */
    public Geometry window(int w, int h, int x, int y) {
        int[] out = slideSize(w, h);
        return new Geometry(w, h, out[0], out[1], x, y, size, size, false);
    }

    /** Writes the image's canvas as normalised CHW floats from {@code offset}; padding stays as {@code out} holds it (0). */
    public void image(BufferedImage img, Geometry g, float[] out, int offset) {
        Resampler.Pixels px = ImageTransform.pixels(ImageDecoder.toRgb(img));
        Resampler.Box whole = new Resampler.Box(0, 0, px.width(), px.height());
        Resampler.resample(px, whole, g.outW(), g.outH(), g.winX(), g.winY(), g.winW(), g.winH(), size, g.flip(), lut(),
                out, offset);
    }

    /**
     * The label map's canvas (size × size, row-major) by nearest neighbour: canvas pixel x takes source column
     * floor((winX + x + ½)·srcW/outW) (mirrored when flipped); padding is {@code ignore}.
     */
    public int[] labels(int[] labels, Geometry g, int ignore) {
        int[] out = new int[size * size];
        java.util.Arrays.fill(out, ignore);
        int[] cols = new int[g.winW()];
        for (int x = 0; x < g.winW(); x++) {
            int vx = g.winX() + (g.flip() ? g.winW() - 1 - x : x);
            cols[x] = Math.min(g.srcW() - 1, (int) Math.floor((vx + 0.5) * g.srcW() / g.outW()));
        }
        for (int y = 0; y < g.winH(); y++) {
            int sy = Math.min(g.srcH() - 1, (int) Math.floor((g.winY() + y + 0.5) * g.srcH() / g.outH()));
            for (int x = 0; x < g.winW(); x++) {
                out[y * size + x] = labels[sy * g.srcW() + cols[x]];
            }
        }
        return out;
    }

    /**
     * A box (corners in source pixels) on the canvas: scaled, shifted by the window, mirrored if flipped, clipped
     * to the window; null when less than one pixel of it is left in either direction (a box the crop cut away, as
     * mmdet's RandomCrop drops them).
     */
    public static double[] box(double x1, double y1, double x2, double y2, Geometry g) {
        double a = x1 * g.scaleX() - g.winX();
        double b = x2 * g.scaleX() - g.winX();
        if (g.flip()) {
            double t = g.winW() - b;
            b = g.winW() - a;
            a = t;
        }
        double c = y1 * g.scaleY() - g.winY();
        double d = y2 * g.scaleY() - g.winY();
        a = clip(a, g.winW());
        b = clip(b, g.winW());
        c = clip(c, g.winH());
        d = clip(d, g.winH());
        return b - a < 1 || d - c < 1 ? null : new double[] {a, c, b, d};
    }

    private static double clip(double v, int max) {
        return Math.max(0, Math.min(max, v));
    }

    private float[][] lut() {
        float[][] t = lut;
        if (t == null) {
            t = new float[3][256];
            for (int c = 0; c < 3; c++) {
                for (int v = 0; v < 256; v++) {
                    t[c][v] = (float) ((v / 255.0 - mean[c]) / std[c]);
                }
            }
            lut = t;
        }
        return t;
    }
}
