package ai.pela.zoo.train;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * AdamW's state as flat vectors (all parameters' moments concatenated in the model's parameter order) and the
 * step count — the form the distributed trainer broadcasts, averages and checkpoints.
 */
public record OptimizerState(long step, INDArray m, INDArray v) {
}
