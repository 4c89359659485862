package ai.pela.zoo.dense;

import ai.pela.zoo.train.TrainBatch;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A detection batch: images [N, 3, S, S] and each image's ground-truth boxes in input pixels (possibly none). */
public record DetBatch(INDArray images, List<List<GtBox>> boxes) implements TrainBatch {
    public DetBatch {
        boxes = boxes.stream().map(List::copyOf).toList();
    }
}
