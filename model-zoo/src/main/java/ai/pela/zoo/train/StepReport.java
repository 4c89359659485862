package ai.pela.zoo.train;

/**
 * What one step of any {@link TrainStep} reports: its loss components in the order of
 * {@link TrainStep#lossNames()} (NaN for a term the step did not compute), the gradient norm before clipping and
 * the learning rate used.
 */
public record StepReport(double[] losses, double gradNorm, double lr) {
}
