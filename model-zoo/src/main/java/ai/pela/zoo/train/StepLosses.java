package ai.pela.zoo.train;

/**
 * The loss components of one step (NaN for a term the step does not compute), the gradient norm before
 * clipping and the learning rate used.
 */
public record StepLosses(double total, double base, double fd, double rwp, double gradNorm, double lr) {
}
