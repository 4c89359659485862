package ai.pela.spark.config;

/**
 * What an evaluation reads: {@code eval.batch-size}, and {@code train.workers}, which sizes the local Spark and the
 * evaluation's partitions (two per worker).
 */
public record EvalSettings(int batchSize, int workers) {

    public static EvalSettings from(Recipe r) {
        return new EvalSettings(r.positive("eval.batch-size"), r.positive("train.workers"));
    }

    public int partitions() {
        return 2 * workers;
    }
}
