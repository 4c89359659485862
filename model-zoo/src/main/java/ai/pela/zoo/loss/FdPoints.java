package ai.pela.zoo.loss;

/**
 * Where L_fd compares the student with the teacher. {@link #BLOCKS}: every block's output, as the paper
 * distils every layer; {@link #FINAL}: only the final pooled feature (after the final norm and pooling), as PELA's
 * released Swin code does.
 */
public enum FdPoints {
    BLOCKS,
    FINAL
}
