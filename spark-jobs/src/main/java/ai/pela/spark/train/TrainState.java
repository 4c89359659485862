package ai.pela.spark.train;

import ai.pela.spark.data.DataPosition;

/**
 * What the driver holds between rounds and what a checkpoint stores: the student's parameters and AdamW moments
 * as flat vectors (in the model's parameter order), the optimiser step (which drives the schedule), the number of
 * rounds done (which names checkpoints and metrics rows), and the data position in samples. Under the ring exchange
 * the vectors of a round that is not checkpointed are those of the last checkpoint (the current ones stay on the
 * executors); only checkpointed states are written.
 *
 * @param position where the data goes on; null for a state from before positions were kept (a checkpoint written
 *                 by an earlier version, or a fresh start), which the trainer reads as {@code roundsDone} rounds of
 *                 the current plan
 */
public record TrainState(float[] params, float[] m, float[] v, long step, int roundsDone, DataPosition position) {

    public TrainState(float[] params, float[] m, float[] v, long step, int roundsDone) {
        this(params, m, v, step, roundsDone, null);
    }

    /** The same vectors and counters at another data position. */
    public TrainState at(DataPosition p) {
        return new TrainState(params, m, v, step, roundsDone, p);
    }
}
