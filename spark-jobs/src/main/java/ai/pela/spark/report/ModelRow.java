package ai.pela.spark.report;

/**
 * One model of the demo's comparison. Accuracies are fractions (0–1); {@code gflops} is at batch 1;
 * {@code imagesPerS} is measured inference throughput. A value that was not measured is {@code NaN}: it is written
 * as {@code null} in JSON and as "n/a" in tables, rather than as a misleading 0.
 */
public record ModelRow(String name, double top1, double top5, long params, double gflops, double imagesPerS) {

    public ModelRow {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("model row without a name");
        }
        checkFraction(name, "top1", top1);
        checkFraction(name, "top5", top5);
        if (params < 0) {
            throw new IllegalArgumentException(name + ": params must be >= 0, got " + params);
        }
        checkNonNegative(name, "gflops", gflops);
        checkNonNegative(name, "imagesPerS", imagesPerS);
    }

    /** Catches a percentage passed where a fraction is expected, which would print as 8,512 %. */
    private static void checkFraction(String name, String field, double v) {
        if (!Double.isNaN(v) && (v < 0 || v > 1)) {
            throw new IllegalArgumentException(name + ": " + field + " must be a fraction between 0 and 1 (or NaN), got " + v);
        }
    }

    private static void checkNonNegative(String name, String field, double v) {
        if (!Double.isNaN(v) && !(v >= 0 && v < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException(name + ": " + field + " must be finite and >= 0 (or NaN), got " + v);
        }
    }

    public double paramsMillions() {
        return params / 1e6;
    }
}
