package ai.pela.spark.eval;

import java.io.Serializable;

/** A COCO box {@code [x, y, w, h]}: top-left corner, width and height, in pixels. */
public record Box(double x, double y, double w, double h) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Width times height, which COCO takes as a detection's area. */
    public double area() {
        return w * h;
    }

    /**
     * Overlap of a detection with a ground-truth box as COCO scores it: intersection over union, or, when the
     * ground truth is a crowd region, intersection over the detection's own area, so that a detection lying inside
     * a crowd counts as matching it however large the crowd is.
     */
    public static double iou(Box det, Box gt, boolean crowd) {
        double iw = Math.min(det.x + det.w, gt.x + gt.w) - Math.max(det.x, gt.x);
        if (iw <= 0) {
            return 0;
        }
        double ih = Math.min(det.y + det.h, gt.y + gt.h) - Math.max(det.y, gt.y);
        if (ih <= 0) {
            return 0;
        }
        double inter = iw * ih;
        double denominator = crowd ? det.area() : det.area() + gt.area() - inter;
        return inter / denominator;
    }
}
