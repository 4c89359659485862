package ai.pela.spark.train;

import java.io.Serializable;

/** What each round broadcasts: the averaged student parameters and AdamW state, and the optimiser step. */
public record RoundInput(float[] params, float[] m, float[] v, long step) implements Serializable {
}
