package ai.pela.spark.train;

/**
 * What the driver holds between rounds and what a checkpoint stores: the student's parameters and AdamW moments
 * as flat vectors (in the model's parameter order), the optimiser step, and the position in the run — the number
 * of rounds done, from which the epoch and the place in that epoch's seeded data order follow. Under the ring
 * exchange the vectors of a round that is not checkpointed are those of the last checkpoint (the current ones stay
 * on the executors); only checkpointed states are written.
 */
public record TrainState(float[] params, float[] m, float[] v, long step, int roundsDone) {
}
