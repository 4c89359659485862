package ai.pela.zoo.train;

import org.nd4j.linalg.api.ndarray.INDArray;

/** A classification batch: images and one class index per image (PELA pre-training, teacher training). */
public record LabelledImages(INDArray images, int[] labels) implements TrainBatch {
    @Override
    public int size() {
        return labels.length;
    }
}
