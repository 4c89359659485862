package ai.pela.spark.data;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.awt.image.Raster;
import java.awt.image.SinglePixelPackedSampleModel;
import java.io.Serializable;
import java.util.random.RandomGenerator;

/**
 * The augmentation and normalisation of torchvision's ImageNet recipes, written straight into a batch buffer:
 * <ul>
 * <li>{@link #train}: RandomResizedCrop(size, scale 0.08–1 unless given, ratio 3/4–4/3) with torchvision's sampling (ten tries,
 * then a centre crop), RandomHorizontalFlip(0.5), ToTensor, Normalize;</li>
 * <li>{@link #eval}: Resize(shorter side to round(size / 0.875)), CenterCrop(size), ToTensor, Normalize.</li>
 * </ul>
 * Resizing uses PIL's antialiased bilinear filter ({@link Resampler}). Randomness comes only from the generator
 * passed in, so a sample's seed fixes its pixels wherever it is processed. Immutable and thread-safe.
 */
public final class ImageTransform implements Serializable {
    private static final long serialVersionUID = 1L;
    static final double SCALE_MIN = 0.08;
    static final double SCALE_MAX = 1.0;
    static final double LOG_RATIO_MIN = Math.log(3.0 / 4.0);
    static final double LOG_RATIO_MAX = Math.log(4.0 / 3.0);
    static final double EVAL_CROP_FRACTION = 0.875;

    private final int size;
    private final boolean train;
    private final double[] mean;
    private final double[] std;
    private final double scaleMin;
    private final double scaleMax;
    /** Evaluation without a crop: the whole image resized to size × size (ALBEF's test transform). */
    private final boolean squash;
    private final boolean flip;
    private transient volatile float[][] lut;

    private ImageTransform(int size, boolean train, double[] mean, double[] std, double scaleMin, double scaleMax) {
        this(size, train, mean, std, scaleMin, scaleMax, false, true);
    }

    private ImageTransform(int size, boolean train, double[] mean, double[] std, double scaleMin, double scaleMax,
            boolean squash, boolean flip) {
        if (!(scaleMin > 0) || scaleMin > scaleMax || scaleMax > 1) {
            throw new IllegalArgumentException("crop scale must satisfy 0 < min <= max <= 1, got [" + scaleMin + ", "
                    + scaleMax + "]");
        }
        if (size < 1) {
            throw new IllegalArgumentException("image size " + size + " must be positive");
        }
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("mean and std need 3 values (one per RGB channel)");
        }
        for (double s : std) {
            if (!(s > 0)) {
                throw new IllegalArgumentException("std values must be positive, got " + s);
            }
        }
        this.size = size;
        this.train = train;
        this.flip = flip;
        this.mean = mean.clone();
        this.std = std.clone();
        this.scaleMin = scaleMin;
        this.scaleMax = scaleMax;
        this.squash = squash;
    }

    /** RandomResizedCrop + horizontal flip + normalisation, for training. */
    public static ImageTransform train(int imgSize, double[] mean, double[] std) {
        return train(imgSize, mean, std, SCALE_MIN, SCALE_MAX);
    }

    /**
     * As {@link #train(int, double[], double[])} with RandomResizedCrop's area range [scaleMin, scaleMax] (small
     * images such as 28-pixel Fashion-MNIST items lose too much at the ImageNet default of 0.08).
     */
    public static ImageTransform train(int imgSize, double[] mean, double[] std, double scaleMin, double scaleMax) {
        return new ImageTransform(imgSize, true, mean, std, scaleMin, scaleMax);
    }

    /** Resize the shorter side to round(imgSize / 0.875) + centre crop + normalisation, for evaluation. */
    public static ImageTransform eval(int imgSize, double[] mean, double[] std) {
        return new ImageTransform(imgSize, false, mean, std, SCALE_MIN, SCALE_MAX);
    }

    /**
     * ALBEF's evaluation transform, {@code Resize((imgSize, imgSize))} + normalisation: the whole image scaled to a
     * square, aspect ratio not kept, nothing cropped (retrieval captions may describe anything in the picture).
     */
    public static ImageTransform evalSquash(int imgSize, double[] mean, double[] std) {
        return new ImageTransform(imgSize, false, mean, std, SCALE_MIN, SCALE_MAX, true, true);
    }

    /**
     * The same without the horizontal flip: for captions that say "left" and "right" (a flip would make them
     * false). The flip's draw is still taken, so the crops stay those of the flipping transform.
     */
    public ImageTransform withoutFlip() {
        return new ImageTransform(size, train, mean, std, scaleMin, scaleMax, squash, false);
    }

    public int imgSize() {
        return size;
    }

    public boolean isTrain() {
        return train;
    }

    /** 3 × imgSize × imgSize: the floats one image takes in a batch. */
    public int floatsPerImage() {
        return 3 * size * size;
    }

    /** Transforms into a new array of {@link #floatsPerImage()} floats (CHW). */
    public float[] apply(BufferedImage img, RandomGenerator rng) {
        float[] out = new float[floatsPerImage()];
        apply(img, rng, out, 0);
        return out;
    }

    /**
     * Transforms {@code img} and writes it as CHW floats into {@code out} from {@code offset}. {@code rng} is used
     * for training only (it may be null for evaluation); the draws are those of torchvision, in its order.
     */
    public void apply(BufferedImage img, RandomGenerator rng, float[] out, int offset) {
        if (train && rng == null) {
            throw new IllegalArgumentException("the training transform needs a random generator");
        }
        Resampler.Pixels px = pixels(ImageDecoder.toRgb(img));
        if (train) {
            Resampler.Box crop = randomResizedCrop(px.width(), px.height(), rng);
            boolean flipped = rng.nextDouble() < 0.5 && flip;
            Resampler.resample(px, crop, size, size, 0, 0, size, flipped, lut(), out, offset);
        } else if (squash) {
            Resampler.Box whole = new Resampler.Box(0, 0, px.width(), px.height());
            Resampler.resample(px, whole, size, size, 0, 0, size, false, lut(), out, offset);
        } else {
            int[] resized = evalResize(px.width(), px.height());
            int left = (int) Math.rint((resized[0] - size) / 2.0);
            int top = (int) Math.rint((resized[1] - size) / 2.0);
            Resampler.Box whole = new Resampler.Box(0, 0, px.width(), px.height());
            Resampler.resample(px, whole, resized[0], resized[1], left, top, size, false, lut(), out, offset);
        }
    }

    /**
     * torchvision's {@code RandomResizedCrop.get_params}: up to ten draws of an area fraction and a log-uniform
     * aspect ratio; the first box that fits is placed uniformly; otherwise the centre crop of the clamped ratio.
     * Python's round() is half-to-even, hence {@code Math.rint}.
     */
    Resampler.Box randomResizedCrop(int width, int height, RandomGenerator rng) {
        double area = (double) width * height;
        for (int attempt = 0; attempt < 10; attempt++) {
            double targetArea = area * uniform(rng, scaleMin, scaleMax);
            double ratio = Math.exp(uniform(rng, LOG_RATIO_MIN, LOG_RATIO_MAX));
            int w = (int) Math.rint(Math.sqrt(targetArea * ratio));
            int h = (int) Math.rint(Math.sqrt(targetArea / ratio));
            if (w > 0 && w <= width && h > 0 && h <= height) {
                int top = rng.nextInt(height - h + 1);
                int left = rng.nextInt(width - w + 1);
                return new Resampler.Box(left, top, w, h);
            }
        }
        return centreFallback(width, height);
    }

    private static Resampler.Box centreFallback(int width, int height) {
        double inRatio = (double) width / height;
        int w = width;
        int h = height;
        if (inRatio < 3.0 / 4.0) {
            h = (int) Math.rint(w / (3.0 / 4.0));
        } else if (inRatio > 4.0 / 3.0) {
            w = (int) Math.rint(h * (4.0 / 3.0));
        }
        return new Resampler.Box((width - w) / 2, (height - h) / 2, w, h);
    }

    /** torchvision's Resize(int): the shorter side becomes the target, the longer one is scaled and truncated. */
    int[] evalResize(int width, int height) {
        int shorter = (int) Math.rint(size / EVAL_CROP_FRACTION);
        if (width <= height) {
            return new int[] {shorter, (int) ((double) shorter * height / width)};
        }
        return new int[] {(int) ((double) shorter * width / height), shorter};
    }

    private static double uniform(RandomGenerator rng, double from, double to) {
        return from + (to - from) * rng.nextDouble();
    }

    /** (v / 255 − mean) / std for every 8-bit value v, per channel. */
    private float[][] lut() {
        float[][] t = lut;
        if (t == null) {
            t = new float[3][256];
            for (int c = 0; c < 3; c++) {
                for (int v = 0; v < 256; v++) {
                    t[c][v] = (float) ((v / 255.0 - mean[c]) / std[c]);
                }
            }
            lut = t; // volatile: a thread that sees the table sees it filled; a race only computes it twice
        }
        return t;
    }

    static Resampler.Pixels pixels(BufferedImage rgb) {
        Raster r = rgb.getRaster();
        SinglePixelPackedSampleModel sm = (SinglePixelPackedSampleModel) r.getSampleModel();
        int stride = sm.getScanlineStride();
        int x0 = r.getMinX() - r.getSampleModelTranslateX();
        int y0 = r.getMinY() - r.getSampleModelTranslateY();
        DataBufferInt db = (DataBufferInt) r.getDataBuffer();
        int offset = db.getOffset() + y0 * stride + x0;
        return new Resampler.Pixels(db.getData(), offset, stride, r.getWidth(), r.getHeight());
    }
}
