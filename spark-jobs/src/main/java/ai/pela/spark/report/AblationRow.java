package ai.pela.spark.report;

/**
 * One line of the demo's Table 7 ablation: a model and which of PELA's two losses trained it. {@code fd} and
 * {@code rwp} are {@code null} for the rows that were not trained at all (the teacher, the naive SVD student).
 */
public record AblationRow(String label, Boolean fd, Boolean rwp, ModelRow model) {
    public AblationRow {
        if (label == null || label.isBlank()) {
            throw new IllegalArgumentException("ablation row without a label");
        }
        if ((fd == null) != (rwp == null)) {
            throw new IllegalArgumentException(label + ": L_fd and L_rwp are both given (a trained student) or both"
                    + " absent (an untrained model)");
        }
        if (model == null) {
            throw new IllegalArgumentException(label + ": ablation row without its model's results");
        }
    }
}
