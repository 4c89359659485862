package ai.pela.zoo.loss;

/** The two forms of the feature-distillation loss (PELA.md §2). */
public enum FdForm {
    /** Released code: mean over blocks of the element-wise MSE. Scale-free; the default. */
    CODE,
    /** Paper eq. 4: 1/(2L) Σ_i ‖X_s^i − X_t^i‖², the squared norm taken per example and averaged over the batch. */
    PAPER
}
