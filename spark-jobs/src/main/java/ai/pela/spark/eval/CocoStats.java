package ai.pela.spark.eval;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * COCO's twelve summary numbers, in the order and with the meaning of pycocotools' {@code COCOeval.stats}:
 * AP (IoU .50:.95), AP50, AP75, AP small/medium/large, AR with 1, 10 and 100 detections per image, AR
 * small/medium/large. Fractions in [0, 1]; −1 where COCO reports −1 (no ground truth in that area range).
 * {@code perCategoryAp} is AP (IoU .50:.95, all areas, 100 detections) per category id, −1 for a category without
 * ground truth.
 */
public record CocoStats(double[] stats, Map<Integer, Double> perCategoryAp) {
    public static final List<String> NAMES = List.of("AP", "AP50", "AP75", "APs", "APm", "APl",
            "AR1", "AR10", "AR100", "ARs", "ARm", "ARl");

    private static final int ALL = 0;
    private static final int LAST_M = 2;

    public CocoStats {
        if (stats.length != NAMES.size()) {
            throw new IllegalArgumentException("COCO has " + NAMES.size() + " summary numbers, got " + stats.length);
        }
        stats = stats.clone();
        perCategoryAp = Collections.unmodifiableMap(new LinkedHashMap<>(perCategoryAp));
    }

    @Override
    public double[] stats() {
        return stats.clone();
    }

    public double get(String name) {
        int i = NAMES.indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException("no COCO number named " + name + "; one of " + NAMES);
        }
        return stats[i];
    }

    public double ap() {
        return stats[0];
    }

    public double ap50() {
        return stats[1];
    }

    public double ap75() {
        return stats[2];
    }

    /** The numbers by name, then {@code per_category_ap} by category id. */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        for (int i = 0; i < stats.length; i++) {
            o.put(NAMES.get(i), stats[i]);
        }
        ObjectNode perCat = o.putObject("per_category_ap");
        perCategoryAp.forEach((id, ap) -> perCat.put(Integer.toString(id), ap));
        return o;
    }

    /**
     * The summary of per-category curves: {@code precision[k][a][m][t]} (101 values) and {@code recall[k][a][m][t]},
     * null where the category has no ground truth in that area range (COCO's −1 entries, left out of every mean).
     */
    static CocoStats summarize(int[] categoryIds, double[][][][][] precision, double[][][][] recall) {
        int t50 = thresholdIndex(0.5);
        int t75 = thresholdIndex(0.75);
        double[] s = {
            meanPrecision(precision, ALL, LAST_M, -1),
            meanPrecision(precision, ALL, LAST_M, t50),
            meanPrecision(precision, ALL, LAST_M, t75),
            meanPrecision(precision, 1, LAST_M, -1),
            meanPrecision(precision, 2, LAST_M, -1),
            meanPrecision(precision, 3, LAST_M, -1),
            meanRecall(recall, ALL, 0),
            meanRecall(recall, ALL, 1),
            meanRecall(recall, ALL, LAST_M),
            meanRecall(recall, 1, LAST_M),
            meanRecall(recall, 2, LAST_M),
            meanRecall(recall, 3, LAST_M),
        };
        Map<Integer, Double> perCat = new LinkedHashMap<>();
        for (int k = 0; k < categoryIds.length; k++) {
            Mean mean = new Mean();
            addPrecision(mean, precision[k][ALL][LAST_M], -1);
            perCat.put(categoryIds[k], mean.value());
        }
        return new CocoStats(s, perCat);
    }

    private static int thresholdIndex(double iou) {
        for (int t = 0; t < CocoEval.IOU_THRESHOLDS.length; t++) {
            if (CocoEval.IOU_THRESHOLDS[t] == iou) {
                return t;
            }
        }
        throw new IllegalStateException("no IoU threshold " + iou);
    }

    /** Mean over categories, thresholds ({@code t} only, unless −1) and recall points of the defined precisions. */
    private static double meanPrecision(double[][][][][] precision, int a, int m, int t) {
        Mean mean = new Mean();
        for (double[][][][] perCategory : precision) {
            addPrecision(mean, perCategory[a][m], t);
        }
        return mean.value();
    }

    private static void addPrecision(Mean mean, double[][] curves, int t) {
        if (curves == null) {
            return;
        }
        for (int i = 0; i < curves.length; i++) {
            if (t < 0 || t == i) {
                for (double v : curves[i]) {
                    mean.add(v);
                }
            }
        }
    }

    private static double meanRecall(double[][][][] recall, int a, int m) {
        Mean mean = new Mean();
        for (double[][][] perCategory : recall) {
            if (perCategory[a][m] != null) {
                for (double v : perCategory[a][m]) {
                    mean.add(v);
                }
            }
        }
        return mean.value();
    }

    /** A running mean that is −1 when empty, as COCO's summary is. */
    private static final class Mean {
        private double sum;
        private long n;

        void add(double v) {
            sum += v;
            n++;
        }

        double value() {
            return n == 0 ? -1 : sum / n;
        }
    }
}
