package ai.pela.zoo.dense;

import ai.pela.zoo.config.ModelConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * FCOS's target assignment, a port of mmdet's {@code FCOSHead._get_target_single} with centre sampling: a point
 * (the centre of a cell, (j + ½)·stride) is positive for a ground-truth box when it lies inside the box's centre
 * region (the box's centre ± radius·stride, clipped to the box) and the largest of its four distances to the box
 * sides is within its level's regression range; among several such boxes the smallest (by area) wins. Targets are
 * the (l, t, r, b) distances divided by the stride (norm_on_bbox) and the centerness
 * √(min(l, r)/max(l, r) · min(t, b)/max(t, b)).
 */
public final class FcosTargets {
    /** Every point of every level, level-major then row-major, and its level's stride. */
    public record Points(double[] x, double[] y, double[] stride, int[] level) {
        public int size() {
            return x.length;
        }
    }

    /** One image's targets: class per point (−1 for background), distances / stride [P·4], centerness [P]. */
    public record ImageTargets(int[] labels, float[] distances, float[] centerness) {
        public int positives() {
            int n = 0;
            for (int l : labels) {
                n += l >= 0 ? 1 : 0;
            }
            return n;
        }
    }

    private FcosTargets() {
    }

    public static Points points(FcosConfig c, ModelConfig backbone) {
        return points(c.levelSides(backbone), c.strides(backbone));
    }

    static Points points(int[] sides, double[] strides) {
        int n = 0;
        for (int s : sides) {
            n += s * s;
        }
        double[] x = new double[n];
        double[] y = new double[n];
        double[] st = new double[n];
        int[] lv = new int[n];
        int k = 0;
        for (int l = 0; l < sides.length; l++) {
            for (int i = 0; i < sides[l]; i++) {
                for (int j = 0; j < sides[l]; j++) {
                    x[k] = (j + 0.5) * strides[l];
                    y[k] = (i + 0.5) * strides[l];
                    st[k] = strides[l];
                    lv[k++] = l;
                }
            }
        }
        return new Points(x, y, st, lv);
    }

    public static ImageTargets assign(Points pts, List<GtBox> gts, List<List<Double>> ranges, double radius) {
        int n = pts.size();
        int[] labels = new int[n];
        float[] dist = new float[n * 4];
        float[] ctr = new float[n];
        for (int p = 0; p < n; p++) {
            int best = bestBox(pts, p, gts, ranges, radius);
            labels[p] = best < 0 ? -1 : gts.get(best).label();
            if (best >= 0) {
                GtBox b = gts.get(best);
                double[] d = {pts.x()[p] - b.x1(), pts.y()[p] - b.y1(), b.x2() - pts.x()[p], b.y2() - pts.y()[p]};
                for (int k = 0; k < 4; k++) {
                    dist[p * 4 + k] = (float) (d[k] / pts.stride()[p]);
                }
                ctr[p] = (float) Math.sqrt(Math.min(d[0], d[2]) / Math.max(d[0], d[2])
                        * (Math.min(d[1], d[3]) / Math.max(d[1], d[3])));
            }
        }
        return new ImageTargets(labels, dist, ctr);
    }

    /** The smallest box that point p may regress, or −1 (mmdet's areas.min(dim=1), first index on ties). */
    private static int bestBox(Points pts, int p, List<GtBox> gts, List<List<Double>> ranges, double radius) {
        double px = pts.x()[p];
        double py = pts.y()[p];
        List<Double> range = ranges.get(pts.level()[p]);
        int best = -1;
        double bestArea = Double.POSITIVE_INFINITY;
        for (int g = 0; g < gts.size(); g++) {
            GtBox b = gts.get(g);
            if (!insideCentre(b, px, py, pts.stride()[p] * radius)) {
                continue;
            }
            double maxDist = Math.max(Math.max(px - b.x1(), py - b.y1()), Math.max(b.x2() - px, b.y2() - py));
            if (maxDist < range.get(0) || maxDist > range.get(1)) {
                continue;
            }
            if (b.area() < bestArea) {
                bestArea = b.area();
                best = g;
            }
        }
        return best;
    }

    private static boolean insideCentre(GtBox b, double px, double py, double r) {
        double cx = (b.x1() + b.x2()) / 2;
        double cy = (b.y1() + b.y2()) / 2;
        double x1 = Math.max(cx - r, b.x1());
        double y1 = Math.max(cy - r, b.y1());
        double x2 = Math.min(cx + r, b.x2());
        double y2 = Math.min(cy + r, b.y2());
        return Math.min(Math.min(px - x1, py - y1), Math.min(x2 - px, y2 - py)) > 0;
    }

    /**
     * The loss placeholders of a batch, rows image-major as {@link Fcos} flattens its outputs: one-hot classes,
     * distances (1 on background rows, where they are masked out, so GIoU stays finite), centerness, positive mask.
     */
    static Map<String, INDArray> placeholders(List<List<GtBox>> batch, Points pts, FcosConfig c) {
        int n = pts.size();
        int rows = batch.size() * n;
        float[] cls = new float[rows * c.numClasses()];
        float[] reg = new float[rows * 4];
        float[] ctr = new float[rows];
        float[] pos = new float[rows];
        java.util.Arrays.fill(reg, 1f);
        for (int i = 0; i < batch.size(); i++) {
            ImageTargets t = assign(pts, batch.get(i), c.regressRanges(), c.centerRadius());
            for (int p = 0; p < n; p++) {
                int r = i * n + p;
                if (t.labels()[p] < 0) {
                    continue;
                }
                cls[r * c.numClasses() + t.labels()[p]] = 1f;
                System.arraycopy(t.distances(), p * 4, reg, r * 4, 4);
                ctr[r] = t.centerness()[p];
                pos[r] = 1f;
            }
        }
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(DenseLosses.FCOS_CLS_T, Nd4j.create(cls, new long[] {rows, c.numClasses()}, 'c'));
        ph.put(DenseLosses.FCOS_REG_T, Nd4j.create(reg, new long[] {rows, 4}, 'c'));
        ph.put(DenseLosses.FCOS_CTR_T, Nd4j.create(ctr, new long[] {rows, 1}, 'c'));
        ph.put(DenseLosses.FCOS_POS, Nd4j.create(pos, new long[] {rows, 1}, 'c'));
        return ph;
    }
}
