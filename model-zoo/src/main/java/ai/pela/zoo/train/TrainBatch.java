package ai.pela.zoo.train;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One local step's examples as a {@link TrainStep} consumes them: the normalised images [N, C, H, W] and, in the
 * implementing type, the step's own targets (class labels, label maps, boxes, texts …). A step accepts only its
 * own batch type and fails naming the type it got.
 */
public interface TrainBatch {
    INDArray images();

    /** Examples in the batch: each worker's averaging weight is the sum over its steps. */
    default int size() {
        return (int) images().size(0);
    }

    /** Frees the batch's native memory (its images, and targets held as arrays). */
    default void close() {
        images().close();
    }
}
