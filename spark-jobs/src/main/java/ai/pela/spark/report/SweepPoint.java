package ai.pela.spark.report;

/** One compression ratio of the demo's κ sweep: the naive (SVD only) and the PELA student at that κ. */
public record SweepPoint(double kappa, ModelRow naive, ModelRow pela) {
    public SweepPoint {
        if (!(kappa > 0) || Double.isInfinite(kappa)) {
            throw new IllegalArgumentException("sweep point: kappa must be finite and > 0, got " + kappa);
        }
        if (naive == null || pela == null) {
            throw new IllegalArgumentException("sweep point kappa " + kappa + ": needs both the naive and the PELA student");
        }
    }
}
