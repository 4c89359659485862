package ai.pela.zoo.loss;

/** The two forms of the regularised-weight-perturbation loss (PELA.md §2), with ΔW_k = W1_k·W0_k − W_k. */
public enum RwpForm {
    /** Paper eq. 6: Σ_k (max|ΔW_k| − ε). */
    PAPER,
    /** Released code: mean_k (max|ΔW_k| − ε)². */
    CODE
}
