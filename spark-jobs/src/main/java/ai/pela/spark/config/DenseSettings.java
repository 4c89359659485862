package ai.pela.spark.config;

import ai.pela.spark.jobs.DenseEvaluateJob;
import java.util.List;

/** {@code pela.dense}: the dense tasks' data, head, geometry and evaluation mode (train-head, evaluate --task). */
public record DenseSettings(String ade20kRoot, String ade20kTrainSplit, String ade20kValSplit, String cocoTrainImages,
        String cocoTrainAnnotations, String cocoValImages, String cocoValAnnotations, String head, int imgSize,
        List<Double> scaleRange, double backboneLrScale, DenseEvaluateJob.SegMode segMode, int slideStride) {
    public DenseSettings {
        scaleRange = List.copyOf(scaleRange);
    }

    public static DenseSettings from(Recipe r) {
        return new DenseSettings(r.string("dense.ade20k-root"), r.string("dense.ade20k-train-split"),
                r.string("dense.ade20k-val-split"), r.string("dense.coco-train-images"),
                r.string("dense.coco-train-annotations"), r.string("dense.coco-val-images"),
                r.string("dense.coco-val-annotations"), r.string("dense.head"), r.positive("dense.img-size"),
                r.numbers("dense.scale-range"), r.number("dense.backbone-lr-scale"),
                r.choice("dense.seg-mode", DenseEvaluateJob.SegMode.class), r.positive("dense.slide-stride"));
    }

    public String requiredAde20kRoot() {
        return Checks.required(ade20kRoot, "dense.ade20k-root");
    }

    public String requiredCocoTrainImages() {
        return Checks.required(cocoTrainImages, "dense.coco-train-images");
    }

    public String requiredCocoTrainAnnotations() {
        return Checks.required(cocoTrainAnnotations, "dense.coco-train-annotations");
    }

    public String requiredCocoValImages() {
        return Checks.required(cocoValImages, "dense.coco-val-images");
    }

    public String requiredCocoValAnnotations() {
        return Checks.required(cocoValAnnotations, "dense.coco-val-annotations");
    }

    /** The backbone's learning rate as a fraction of the head's, checked to be >= 0. */
    public double checkedBackboneLrScale() {
        if (!(backboneLrScale >= 0)) {
            throw Checks.invalid("dense.backbone-lr-scale", "must be >= 0, got " + backboneLrScale);
        }
        return backboneLrScale;
    }

    /** The training rescale range {min, max}, checked: 1 <= min <= max. */
    public double[] checkedScaleRange() {
        List<Double> r = scaleRange;
        if (r.size() != 2 || !(r.get(0) >= 1) || r.get(0) > r.get(1)) {
            throw Checks.invalid("dense.scale-range", "must be [min, max] with 1 <= min <= max, got " + r);
        }
        return Checks.array(r);
    }
}
