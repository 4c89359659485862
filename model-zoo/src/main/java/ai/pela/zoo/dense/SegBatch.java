package ai.pela.zoo.dense;

import ai.pela.zoo.train.TrainBatch;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A segmentation batch: images [N, 3, S, S] and their label maps, one class per pixel in N, row, column order,
 * 255 where a pixel is not labelled (ADE20K's "other" after reduce_zero_label, and crop padding).
 */
public record SegBatch(INDArray images, int[] labels) implements TrainBatch {
    public static final int IGNORE = 255;
}
