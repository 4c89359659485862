package ai.pela.spark.eval;

import ai.pela.zoo.PelaException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * COCO's box evaluation (the algorithm of pycocotools' {@code COCOeval} with {@code iouType="bbox"}), written
 * from its definition:
 *
 * <ul>
 *   <li>Per image and category, the detections sorted by score (ties keep file order), at most the last of
 *       {@link #MAX_DETS}, are matched greedily to the ground truth at each IoU threshold {@code .50:.05:.95}. A
 *       detection takes the not yet matched box of highest IoU (at least the threshold); crowd boxes may be matched
 *       any number of times and their IoU is intersection over the detection's area (see {@link Box#iou}).</li>
 *   <li>Ground truth is ignored when it is a crowd or its area lies outside the area range (all, small &lt; 32²,
 *       medium &lt; 96², large). Boxes that are not ignored are tried first, and a detection already matched to one
 *       never moves to an ignored one. A detection matched to an ignored box, or unmatched with its own area
 *       (w·h) outside the range, counts neither as a true nor as a false positive; an ignored box is never a
 *       missed one.</li>
 *   <li>Per category, area range and detection limit, the detections of all images are ranked by score, precision
 *       is made monotone from the right and read at 101 recall points; a category without ground truth that is
 *       not ignored is left out of the means.</li>
 * </ul>
 *
 * <p>The per-image part ({@link #matchImage}) is what a Spark task runs; its results gather in a
 * {@link DetectionTally}, which merges across partitions and computes the numbers on the driver.
 */
public final class CocoEval {
    /** 0.50, 0.55, …, 0.95, computed as numpy's {@code linspace} computes them, so equal to the last bit. */
    public static final double[] IOU_THRESHOLDS = linspace(0.5, 0.95, 10);
    public static final double[] RECALL_THRESHOLDS = linspace(0.0, 1.0, 101);
    public static final int[] MAX_DETS = {1, 10, 100};
    public static final List<String> AREA_NAMES = List.of("all", "small", "medium", "large");
    static final double[][] AREA_RANGES = {{0, 1e10}, {0, 32 * 32}, {32 * 32, 96 * 96}, {96 * 96, 1e10}};
    /** COCO's matching never accepts an IoU below the threshold, and never requires more than this. */
    private static final double MAX_IOU_REQUIRED = 1 - 1e-10;

    static final int T = IOU_THRESHOLDS.length;
    static final int A = AREA_NAMES.size();

    private CocoEval() {
    }

    /** numpy's {@code linspace(start, stop, num)}: {@code i * step + start}, with the last value exactly stop. */
    static double[] linspace(double start, double stop, int num) {
        double step = (stop - start) / (num - 1);
        double[] out = new double[num];
        for (int i = 0; i < num; i++) {
            out[i] = i * step + start;
        }
        out[num - 1] = stop;
        return out;
    }

    /**
     * Evaluates detections against the ground truth on one machine: every image of the ground truth once, then the
     * twelve numbers.
     *
     * @throws PelaException when a detection names an image or a category the ground truth lacks
     */
    public static CocoStats evaluate(CocoInstances gt, List<CocoDetection> detections) {
        Map<Long, List<CocoDetection>> byImage = new HashMap<>();
        for (CocoDetection d : detections) {
            if (!gt.hasImage(d.imageId()) || !gt.hasCategory(d.categoryId())) {
                throw new PelaException("detection " + d + " names an image or category that " + gt.source() + " lacks");
            }
            byImage.computeIfAbsent(d.imageId(), k -> new ArrayList<>()).add(d);
        }
        DetectionTally tally = new DetectionTally(gt.categoryIds());
        for (long id : gt.imageIds()) {
            tally.add(id, gt.annotationsOf(id), byImage.getOrDefault(id, List.of()));
        }
        return tally.stats();
    }

    /** How the detections of one image and category fared in one area range. */
    record Matches(int notIgnoredGt, int[] tpMask, int[] fpMask) {
    }

    /**
     * Matches one image's detections of one category to its ground truth of that category, for each area range.
     * {@code dets} must be ranked already (see {@link #rank}); {@code tpMask[d]} has bit t set when detection d is a
     * true positive at threshold t, {@code fpMask[d]} when it is a false positive (neither when it is ignored).
     */
    static Matches[] matchImage(List<CocoInstances.Annotation> gts, List<CocoDetection> dets) {
        double[][] iou = ious(gts, dets);
        Matches[] out = new Matches[A];
        for (int a = 0; a < A; a++) {
            out[a] = matchArea(gts, dets, iou, AREA_RANGES[a]);
        }
        return out;
    }

    /** The detections sorted by score, highest first, ties in their given order, cut to the largest limit. */
    static List<CocoDetection> rank(List<CocoDetection> dets) {
        List<CocoDetection> sorted = new ArrayList<>(dets);
        sorted.sort(BY_SCORE_DESCENDING);
        return sorted.size() > maxDets() ? sorted.subList(0, maxDets()) : sorted;
    }

    /** By score, highest first; −0.0 and 0.0 compare equal, as they do for numpy's sort. */
    static final Comparator<CocoDetection> BY_SCORE_DESCENDING = (p, q) -> compareDescending(p.score(), q.score());

    static int compareDescending(double p, double q) {
        return p > q ? -1 : p < q ? 1 : 0;
    }

    static int maxDets() {
        return MAX_DETS[MAX_DETS.length - 1];
    }

    private static double[][] ious(List<CocoInstances.Annotation> gts, List<CocoDetection> dets) {
        double[][] iou = new double[dets.size()][gts.size()];
        for (int d = 0; d < dets.size(); d++) {
            for (int g = 0; g < gts.size(); g++) {
                CocoInstances.Annotation gt = gts.get(g);
                iou[d][g] = Box.iou(dets.get(d).bbox(), gt.bbox(), gt.crowd());
            }
        }
        return iou;
    }

    private static Matches matchArea(List<CocoInstances.Annotation> gts, List<CocoDetection> dets, double[][] iou,
            double[] range) {
        int[] order = notIgnoredFirst(gts, range);
        boolean[] ignored = new boolean[order.length];
        boolean[] crowd = new boolean[order.length];
        int notIgnored = 0;
        for (int j = 0; j < order.length; j++) {
            CocoInstances.Annotation g = gts.get(order[j]);
            ignored[j] = isIgnored(g, range);
            crowd[j] = g.crowd();
            notIgnored += ignored[j] ? 0 : 1;
        }
        int[] tp = new int[dets.size()];
        int[] fp = new int[dets.size()];
        for (int t = 0; t < T; t++) {
            matchAtThreshold(t, dets, iou, order, ignored, crowd, range, tp, fp);
        }
        return new Matches(notIgnored, tp, fp);
    }

    private static boolean isIgnored(CocoInstances.Annotation g, double[] range) {
        return g.crowd() || outside(g.area(), range);
    }

    private static boolean outside(double area, double[] range) {
        return area < range[0] || area > range[1];
    }

    /** Ground-truth indices, those not ignored first, each group in file order (a stable sort on the flag). */
    private static int[] notIgnoredFirst(List<CocoInstances.Annotation> gts, double[] range) {
        int[] order = new int[gts.size()];
        int n = 0;
        for (int pass = 0; pass < 2; pass++) {
            for (int g = 0; g < gts.size(); g++) {
                if (isIgnored(gts.get(g), range) == (pass == 1)) {
                    order[n++] = g;
                }
            }
        }
        return order;
    }

    /** One threshold of the greedy matching; sets bit t of the detections' masks. */
    private static void matchAtThreshold(int t, List<CocoDetection> dets, double[][] iou, int[] order,
            boolean[] ignored, boolean[] crowd, double[] range, int[] tp, int[] fp) {
        boolean[] taken = new boolean[order.length];
        for (int d = 0; d < dets.size(); d++) {
            int m = bestMatch(iou[d], order, ignored, crowd, taken, Math.min(IOU_THRESHOLDS[t], MAX_IOU_REQUIRED));
            boolean ignoredDet;
            if (m >= 0) {
                taken[m] = true;
                ignoredDet = ignored[m];
                tp[d] |= ignoredDet ? 0 : 1 << t;
            } else {
                ignoredDet = outside(dets.get(d).bbox().area(), range);
                fp[d] |= ignoredDet ? 0 : 1 << t;
            }
        }
    }

    /**
     * The position (in {@code order}) of the ground truth this detection matches, or −1. Among boxes with IoU at
     * least {@code required}, the highest wins, a later one on a tie; once a box that is not ignored has matched,
     * the ignored ones (all after it) are not considered.
     */
    private static int bestMatch(double[] iouOfDet, int[] order, boolean[] ignored, boolean[] crowd, boolean[] taken,
            double required) {
        double best = required;
        int m = -1;
        for (int j = 0; j < order.length; j++) {
            if (taken[j] && !crowd[j]) {
                continue;
            }
            if (m >= 0 && !ignored[m] && ignored[j]) {
                break;
            }
            double v = iouOfDet[order[j]];
            if (v < best) {
                continue;
            }
            best = v;
            m = j;
        }
        return m;
    }
}
