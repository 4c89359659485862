package ai.pela.spark.eval;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The partial result of a COCO box evaluation over some images: for each category and area range, how many
 * ground-truth boxes count (are not ignored) and, for every detection that is not ignored at every threshold, its
 * score, image, rank within its image and category, and at which IoU thresholds it is a true or a false positive.
 *
 * <p>Matching is local to an image, so a Spark task {@link #add}s the images of its partition and the driver
 * {@link #merge}s the partials; the ranking over all images happens only in {@link #stats}. Ties in score are
 * broken by image id, then by rank, which is the order COCO's evaluator sees them in, so the numbers do not depend
 * on how images were partitioned. Each image must be added exactly once over all partials.
 *
 * <p>Detections ignored at every threshold are not kept: they change neither a true- nor a false-positive count,
 * so leaving them out of the ranking changes no precision or recall value (each takes the values of the detection
 * ranked before it). In the small/medium/large ranges that is most detections.
 */
public final class DetectionTally implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int[] categoryIds;
    private final Map<Integer, Integer> categoryIndex;
    private final long[][] notIgnoredGt;
    private final RankedDetections[][] dets;
    private long images;

    /** An empty tally for these categories (the ground truth's, as {@link CocoInstances#categoryIds}). */
    public DetectionTally(int[] categoryIds) {
        this.categoryIds = categoryIds.clone();
        Arrays.sort(this.categoryIds);
        this.categoryIndex = new HashMap<>();
        for (int k = 0; k < this.categoryIds.length; k++) {
            if (categoryIndex.put(this.categoryIds[k], k) != null) {
                throw new IllegalArgumentException("category id " + this.categoryIds[k] + " given twice");
            }
        }
        this.notIgnoredGt = new long[this.categoryIds.length][CocoEval.A];
        this.dets = new RankedDetections[this.categoryIds.length][CocoEval.A];
        for (RankedDetections[] row : dets) {
            for (int a = 0; a < row.length; a++) {
                row[a] = new RankedDetections();
            }
        }
    }

    public long images() {
        return images;
    }

    /**
     * Adds one image: all its ground truth and all its detections, of every category.
     *
     * @throws IllegalArgumentException when a box names a category this tally does not know or another image
     */
    public DetectionTally add(long imageId, List<CocoInstances.Annotation> gts, List<CocoDetection> detections) {
        Map<Integer, List<CocoInstances.Annotation>> gtByCat = new HashMap<>();
        for (CocoInstances.Annotation g : gts) {
            check(imageId, g.imageId(), g.categoryId(), "ground truth " + g.id());
            gtByCat.computeIfAbsent(g.categoryId(), k -> new ArrayList<>()).add(g);
        }
        Map<Integer, List<CocoDetection>> detByCat = new HashMap<>();
        for (CocoDetection d : detections) {
            check(imageId, d.imageId(), d.categoryId(), "detection " + d);
            detByCat.computeIfAbsent(d.categoryId(), k -> new ArrayList<>()).add(d);
        }
        for (int k = 0; k < categoryIds.length; k++) {
            List<CocoInstances.Annotation> g = gtByCat.getOrDefault(categoryIds[k], List.of());
            List<CocoDetection> d = detByCat.getOrDefault(categoryIds[k], List.of());
            if (!g.isEmpty() || !d.isEmpty()) {
                addCategory(imageId, k, g, CocoEval.rank(d));
            }
        }
        images++;
        return this;
    }

    private void check(long imageId, long boxImage, int category, String what) {
        if (boxImage != imageId) {
            throw new IllegalArgumentException(what + " belongs to image " + boxImage + ", not " + imageId);
        }
        if (!categoryIndex.containsKey(category)) {
            throw new IllegalArgumentException(what + " has category " + category + ", not one of "
                    + Arrays.toString(categoryIds));
        }
    }

    private void addCategory(long imageId, int k, List<CocoInstances.Annotation> gts, List<CocoDetection> ranked) {
        CocoEval.Matches[] matches = CocoEval.matchImage(gts, ranked);
        for (int a = 0; a < CocoEval.A; a++) {
            CocoEval.Matches m = matches[a];
            notIgnoredGt[k][a] += m.notIgnoredGt();
            for (int r = 0; r < ranked.size(); r++) {
                if ((m.tpMask()[r] | m.fpMask()[r]) != 0) {
                    dets[k][a].add(ranked.get(r).score(), imageId, r, m.tpMask()[r], m.fpMask()[r]);
                }
            }
        }
    }

    /** Adds {@code other}'s images to this tally and returns this (the combine step of a Spark aggregation). */
    public DetectionTally merge(DetectionTally other) {
        if (!Arrays.equals(categoryIds, other.categoryIds)) {
            throw new IllegalArgumentException("cannot merge tallies of different categories: "
                    + Arrays.toString(other.categoryIds) + " into " + Arrays.toString(categoryIds));
        }
        for (int k = 0; k < categoryIds.length; k++) {
            for (int a = 0; a < CocoEval.A; a++) {
                notIgnoredGt[k][a] += other.notIgnoredGt[k][a];
                dets[k][a].addAll(other.dets[k][a]);
            }
        }
        images += other.images;
        return this;
    }

    /** Precision and recall over everything added, summarised as COCO's twelve numbers. */
    public CocoStats stats() {
        int kn = categoryIds.length;
        int mn = CocoEval.MAX_DETS.length;
        // precision[k][a][m][t] holds the 101 interpolated precisions, or null where undefined (no ground truth)
        double[][][][][] precision = new double[kn][CocoEval.A][mn][][];
        double[][][][] recall = new double[kn][CocoEval.A][mn][];
        for (int k = 0; k < kn; k++) {
            for (int a = 0; a < CocoEval.A; a++) {
                if (notIgnoredGt[k][a] == 0) {
                    continue;
                }
                for (int m = 0; m < mn; m++) {
                    Curves c = curves(dets[k][a], notIgnoredGt[k][a], CocoEval.MAX_DETS[m]);
                    precision[k][a][m] = c.precision;
                    recall[k][a][m] = c.recall;
                }
            }
        }
        return CocoStats.summarize(categoryIds, precision, recall);
    }

    private record Curves(double[][] precision, double[] recall) {
    }

    private static Curves curves(RankedDetections list, long notIgnored, int maxDet) {
        int[] order = list.ranked(maxDet);
        double[][] precision = new double[CocoEval.T][];
        double[] recall = new double[CocoEval.T];
        for (int t = 0; t < CocoEval.T; t++) {
            double[] rc = new double[order.length];
            double[] pr = new double[order.length];
            cumulate(list, order, t, notIgnored, rc, pr);
            recall[t] = order.length == 0 ? 0 : rc[order.length - 1];
            precision[t] = interpolate(rc, pr);
        }
        return new Curves(precision, recall);
    }

    /** Recall and precision after each ranked detection at threshold t. */
    private static void cumulate(RankedDetections list, int[] order, int t, long notIgnored, double[] rc, double[] pr) {
        double tp = 0;
        double fp = 0;
        for (int i = 0; i < order.length; i++) {
            tp += (list.tp[order[i]] >>> t) & 1;
            fp += (list.fp[order[i]] >>> t) & 1;
            rc[i] = tp / notIgnored;
            // numpy's spacing(1) keeps 0/0 (only ignored detections so far) at 0 instead of NaN
            pr[i] = tp / (fp + tp + Math.ulp(1.0));
        }
    }

    /**
     * Precision at each recall threshold: the precision made non-increasing from the right, taken at the first
     * detection whose recall reaches the threshold; 0 where recall never does.
     */
    private static double[] interpolate(double[] rc, double[] pr) {
        for (int i = pr.length - 1; i > 0; i--) {
            if (pr[i] > pr[i - 1]) {
                pr[i - 1] = pr[i];
            }
        }
        double[] q = new double[CocoEval.RECALL_THRESHOLDS.length];
        int i = 0;
        for (int r = 0; r < q.length; r++) {
            while (i < rc.length && rc[i] < CocoEval.RECALL_THRESHOLDS[r]) {
                i++;
            }
            if (i == rc.length) {
                break;
            }
            q[r] = pr[i];
        }
        return q;
    }

    /** Growable columns of kept detections of one category and area range. */
    private static final class RankedDetections implements Serializable {
        private static final long serialVersionUID = 1L;
        private double[] score = new double[16];
        private long[] image = new long[16];
        private int[] rank = new int[16];
        private int[] tp = new int[16];
        private int[] fp = new int[16];
        private int size;

        void add(double s, long img, int r, int tpMask, int fpMask) {
            if (size == score.length) {
                grow(Math.max(16, size * 2));
            }
            score[size] = s;
            image[size] = img;
            rank[size] = r;
            tp[size] = tpMask;
            fp[size] = fpMask;
            size++;
        }

        void addAll(RankedDetections o) {
            for (int i = 0; i < o.size; i++) {
                add(o.score[i], o.image[i], o.rank[i], o.tp[i], o.fp[i]);
            }
        }

        private void grow(int capacity) {
            score = Arrays.copyOf(score, capacity);
            image = Arrays.copyOf(image, capacity);
            rank = Arrays.copyOf(rank, capacity);
            tp = Arrays.copyOf(tp, capacity);
            fp = Arrays.copyOf(fp, capacity);
        }

        /** Indices of the detections within the first {@code maxDet} of their image, by score, image id, rank. */
        int[] ranked(int maxDet) {
            return java.util.stream.IntStream.range(0, size).filter(i -> rank[i] < maxDet).boxed()
                    .sorted((p, q) -> {
                        int c = CocoEval.compareDescending(score[p], score[q]);
                        if (c != 0) {
                            return c;
                        }
                        c = Long.compare(image[p], image[q]);
                        return c != 0 ? c : Integer.compare(rank[p], rank[q]);
                    })
                    .mapToInt(Integer::intValue).toArray();
        }
    }
}
