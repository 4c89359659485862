package ai.pela.zoo.dense;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * FCOS's test-time decoding, as mmdet's {@code _get_bboxes_single} and {@code batched_nms}: per level, the
 * (point, class) pairs whose classification probability exceeds the score threshold, the {@code nms_pre} best of
 * them; boxes from the point and its distances × stride, clipped to the image; scores multiplied by the
 * centerness probability; then non-maximum suppression per class (a box is dropped when its IoU with a kept
 * higher-scoring box of its class exceeds the threshold) and the {@code max_per_img} best.
 */
public final class FcosDecoder {
    /** A detection in input pixels, corners and class index. */
    public record Detection(double x1, double y1, double x2, double y2, double score, int label) {
        double area() {
            return (x2 - x1) * (y2 - y1);
        }
    }

    private FcosDecoder() {
    }

    /**
     * Decodes one image's rows of the flat outputs.
     *
     * @param cls    logits [P·classes] of this image
     * @param reg    distances in strides [P·4]
     * @param ctr    centerness logits [P]
     * @param width  clip bound in x (the image's extent in the input)
     * @param height clip bound in y
     */
    public static List<Detection> decode(float[] cls, float[] reg, float[] ctr, FcosTargets.Points pts, FcosConfig c,
            double width, double height) {
        int k = c.numClasses();
        List<Detection> all = new ArrayList<>();
        int levels = c.sfpScales().size();
        for (int l = 0; l < levels; l++) {
            List<double[]> cand = new ArrayList<>(); // {score, point, class}
            for (int p = 0; p < pts.size(); p++) {
                if (pts.level()[p] != l) {
                    continue;
                }
                for (int j = 0; j < k; j++) {
                    double s = sigmoid(cls[p * k + j]);
                    if (s > c.scoreThreshold()) {
                        cand.add(new double[] {s, p, j});
                    }
                }
            }
            cand.sort(Comparator.comparingDouble((double[] a) -> -a[0]));
            for (double[] a : cand.subList(0, Math.min(c.nmsPre(), cand.size()))) {
                int p = (int) a[1];
                all.add(box(pts, p, reg, width, height, a[0] * sigmoid(ctr[p]), (int) a[2]));
            }
        }
        List<Detection> kept = nms(all, c.nmsIou());
        return kept.subList(0, Math.min(c.maxPerImage(), kept.size()));
    }

    private static Detection box(FcosTargets.Points pts, int p, float[] reg, double w, double h, double score, int label) {
        double s = pts.stride()[p];
        double x1 = clamp(pts.x()[p] - reg[p * 4] * s, w);
        double y1 = clamp(pts.y()[p] - reg[p * 4 + 1] * s, h);
        double x2 = clamp(pts.x()[p] + reg[p * 4 + 2] * s, w);
        double y2 = clamp(pts.y()[p] + reg[p * 4 + 3] * s, h);
        return new Detection(x1, y1, x2, y2, score, label);
    }

    /**
     * Greedy NMS per class over detections of any order; the result is sorted by descending score (a stable
     * sort, so equal scores keep their input order).
     */
    public static List<Detection> nms(List<Detection> dets, double iouThreshold) {
        List<Detection> sorted = new ArrayList<>(dets);
        sorted.sort(Comparator.comparingDouble((Detection d) -> -d.score()));
        List<Detection> kept = new ArrayList<>();
        for (Detection d : sorted) {
            boolean suppressed = false;
            for (Detection q : kept) {
                if (q.label() == d.label() && iou(q, d) > iouThreshold) {
                    suppressed = true;
                    break;
                }
            }
            if (!suppressed) {
                kept.add(d);
            }
        }
        return kept;
    }

    static double iou(Detection a, Detection b) {
        double iw = Math.max(0, Math.min(a.x2(), b.x2()) - Math.max(a.x1(), b.x1()));
        double ih = Math.max(0, Math.min(a.y2(), b.y2()) - Math.max(a.y1(), b.y1()));
        double inter = iw * ih;
        double union = a.area() + b.area() - inter;
        return union <= 0 ? 0 : inter / union;
    }

    private static double clamp(double v, double max) {
        return Math.max(0, Math.min(max, v));
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }
}
