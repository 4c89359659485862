package ai.pela.zoo.train;

/**
 * Learning rate per optimiser step: linear warm-up from {@code warmupLr} to {@code baseLr} over
 * {@code warmupSteps}, then cosine decay to {@code minLr} at {@code totalSteps} (timm's CosineLRScheduler,
 * counted in steps rather than epochs).
 */
public record CosineSchedule(double baseLr, double minLr, double warmupLr, long warmupSteps, long totalSteps)
        implements java.io.Serializable {
    public CosineSchedule {
        if (totalSteps <= 0 || warmupSteps < 0 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("schedule needs 0 <= warmup (" + warmupSteps + ") <= total (" + totalSteps + ") and total > 0");
        }
    }

    public static CosineSchedule constant(double lr) {
        return new CosineSchedule(lr, lr, lr, 0, Long.MAX_VALUE);
    }

    /** Learning rate of step {@code t} (0-based). */
    public double lr(long t) {
        if (t < warmupSteps) {
            return warmupLr + (baseLr - warmupLr) * t / warmupSteps;
        }
        if (t >= totalSteps) {
            return minLr;
        }
        double progress = (double) (t - warmupSteps) / (totalSteps - warmupSteps);
        return minLr + 0.5 * (baseLr - minLr) * (1 + Math.cos(Math.PI * progress));
    }
}
