package ai.pela.spark.eval;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

/**
 * Per-class pixel counts of a semantic segmentation evaluation, summed over images: the counts of mmseg's
 * {@code total_intersect_and_union}. For each class c, over the pixels whose label is not the ignore index:
 * {@code intersect[c]} (predicted c and labelled c), {@code predArea[c]} (predicted c), {@code labelArea[c]}
 * (labelled c); {@code union[c] = predArea[c] + labelArea[c] − intersect[c]}.
 *
 * <p>The metrics are taken from these totals over the whole dataset, never averaged over images (PELA.md §5): a
 * Spark job fills one histogram per partition and {@link #merge}s them on the driver, which gives exactly the
 * numbers of a single pass. Counts are {@code long}: ADE20K's 2,000 validation images alone have 5·10⁸ pixels.
 *
 * <p>Not thread-safe; a Spark partition fills its own.
 */
public final class SegHistogram implements Serializable {
    private static final long serialVersionUID = 1L;

    /** mmseg's default ignore index, which ADE20K's reduce_zero_label maps background to. */
    public static final int IGNORE_INDEX = 255;

    private final int numClasses;
    private final int ignoreIndex;
    private final long[] intersect;
    private final long[] predArea;
    private final long[] labelArea;
    private long images;

    public SegHistogram(int numClasses, int ignoreIndex) {
        if (numClasses < 1) {
            throw new IllegalArgumentException("number of classes must be positive, got " + numClasses);
        }
        if (ignoreIndex >= 0 && ignoreIndex < numClasses) {
            throw new IllegalArgumentException("ignore index " + ignoreIndex + " is a class (0.." + (numClasses - 1) + ")");
        }
        this.numClasses = numClasses;
        this.ignoreIndex = ignoreIndex;
        this.intersect = new long[numClasses];
        this.predArea = new long[numClasses];
        this.labelArea = new long[numClasses];
    }

    /** An empty histogram with the ignore index 255. */
    public SegHistogram(int numClasses) {
        this(numClasses, IGNORE_INDEX);
    }

    public int numClasses() {
        return numClasses;
    }

    public int ignoreIndex() {
        return ignoreIndex;
    }

    /** How many images were added (over all merged partials). */
    public long images() {
        return images;
    }

    /**
     * Adds one image: {@code pred} and {@code label} hold a class per pixel, in the same pixel order. Pixels
     * labelled with the ignore index count nowhere, whatever was predicted there.
     *
     * @throws IllegalArgumentException for arrays of different lengths, a prediction that is not a class, or a
     *     label that is neither a class nor the ignore index (the readers check labels before they get here)
     */
    public SegHistogram add(int[] pred, int[] label) {
        if (pred.length != label.length) {
            throw new IllegalArgumentException("prediction has " + pred.length + " pixels, label has " + label.length);
        }
        for (int i = 0; i < pred.length; i++) {
            int l = label[i];
            if (l == ignoreIndex) {
                continue;
            }
            int p = pred[i];
            checkClass("label", l, i);
            checkClass("prediction", p, i);
            predArea[p]++;
            labelArea[l]++;
            if (p == l) {
                intersect[p]++;
            }
        }
        images++;
        return this;
    }

    private void checkClass(String what, int value, int pixel) {
        if (value < 0 || value >= numClasses) {
            throw new IllegalArgumentException(what + " " + value + " at pixel " + pixel + " is not a class (0.."
                    + (numClasses - 1) + ") nor the ignore index " + ignoreIndex);
        }
    }

    /**
     * Adds {@code other}'s counts to this histogram and returns this (the combine step of Spark's
     * {@code aggregate}/{@code treeAggregate}).
     */
    public SegHistogram merge(SegHistogram other) {
        if (other.numClasses != numClasses || other.ignoreIndex != ignoreIndex) {
            throw new IllegalArgumentException("cannot merge a histogram of " + other.numClasses + " classes (ignore "
                    + other.ignoreIndex + ") into one of " + numClasses + " classes (ignore " + ignoreIndex + ")");
        }
        for (int c = 0; c < numClasses; c++) {
            intersect[c] += other.intersect[c];
            predArea[c] += other.predArea[c];
            labelArea[c] += other.labelArea[c];
        }
        images += other.images;
        return this;
    }

    public long intersect(int c) {
        return intersect[c];
    }

    public long union(int c) {
        return predArea[c] + labelArea[c] - intersect[c];
    }

    public long predArea(int c) {
        return predArea[c];
    }

    public long labelArea(int c) {
        return labelArea[c];
    }

    /** IoU of each class, a fraction; NaN for a class neither predicted nor labelled anywhere (union 0). */
    public double[] iou() {
        double[] out = new double[numClasses];
        for (int c = 0; c < numClasses; c++) {
            out[c] = (double) intersect[c] / union(c);
        }
        return out;
    }

    /** Pixel accuracy of each class (intersect / label area), a fraction; NaN for a class never labelled. */
    public double[] acc() {
        double[] out = new double[numClasses];
        for (int c = 0; c < numClasses; c++) {
            out[c] = (double) intersect[c] / labelArea[c];
        }
        return out;
    }

    /**
     * Mean IoU over the classes whose IoU is defined (numpy's {@code nanmean}, as mmseg takes it), a fraction; NaN
     * when no class is defined. A class present only in the predictions has IoU 0 and counts; a class absent from
     * both predictions and labels is left out.
     */
    public double miou() {
        return nanMean(iou());
    }

    /** Mean of the defined per-class accuracies (mmseg's mAcc), a fraction. */
    public double macc() {
        return nanMean(acc());
    }

    /** All-pixel accuracy: correctly predicted pixels over all labelled (non-ignored) pixels, a fraction. */
    public double aAcc() {
        return (double) Arrays.stream(intersect).sum() / Arrays.stream(labelArea).sum();
    }

    /**
     * The metrics as mmseg logs them, in percent: {@code {"mIoU", "mAcc", "aAcc", "images", "per_class": {name:
     * {"IoU", "Acc"}}}}, null where a value is undefined (NaN). {@code classNames} names the classes in index order;
     * when null, they are named by index.
     */
    public ObjectNode toJson(List<String> classNames) {
        if (classNames != null && classNames.size() != numClasses) {
            throw new IllegalArgumentException(classNames.size() + " class names for " + numClasses + " classes");
        }
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        putPercent(o, "mIoU", miou());
        putPercent(o, "mAcc", macc());
        putPercent(o, "aAcc", aAcc());
        o.put("images", images);
        ObjectNode perClass = o.putObject("per_class");
        double[] iou = iou();
        double[] acc = acc();
        for (int c = 0; c < numClasses; c++) {
            ObjectNode entry = perClass.putObject(classNames == null ? Integer.toString(c) : classNames.get(c));
            putPercent(entry, "IoU", iou[c]);
            putPercent(entry, "Acc", acc[c]);
        }
        return o;
    }

    private static void putPercent(ObjectNode o, String key, double fraction) {
        if (Double.isNaN(fraction)) {
            o.putNull(key);
        } else {
            o.put(key, fraction * 100);
        }
    }

    static double nanMean(double[] values) {
        double sum = 0;
        int n = 0;
        for (double v : values) {
            if (!Double.isNaN(v)) {
                sum += v;
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }
}
