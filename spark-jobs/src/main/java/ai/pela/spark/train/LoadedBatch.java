package ai.pela.spark.train;

import ai.pela.zoo.train.LabelledImages;
import ai.pela.zoo.train.TrainBatch;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A batch as a worker trains on it: the step's payload (labelled images, label maps, boxes …) and the names of
 * samples skipped as bad.
 */
public record LoadedBatch(TrainBatch batch, List<String> skipped) {
    /** A classification batch: images [n, C, H, W] and class labels. */
    public LoadedBatch(INDArray images, int[] labels, List<String> skipped) {
        this(new LabelledImages(images, labels), skipped);
    }

    public INDArray images() {
        return batch.images();
    }

    /** The class labels of a classification batch. */
    public int[] labels() {
        if (batch instanceof LabelledImages l) {
            return l.labels();
        }
        throw new IllegalStateException("a " + batch.getClass().getSimpleName() + " has no class labels");
    }

    public int size() {
        return batch.size();
    }
}
