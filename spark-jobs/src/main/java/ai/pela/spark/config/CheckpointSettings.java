package ai.pela.spark.config;

/** {@code pela.checkpoint}: a checkpoint every N rounds (and at each epoch's end), the last K kept. */
public record CheckpointSettings(int everyRounds, int keep) {

    public static CheckpointSettings from(Recipe r) {
        return new CheckpointSettings(r.positive("checkpoint.every-rounds"), r.positive("checkpoint.keep"));
    }
}
