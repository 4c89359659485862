package ai.pela.spark.train;

import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A batch as a worker trains on it: images [n, C, H, W], labels, and the names of samples skipped as bad. */
public record LoadedBatch(INDArray images, int[] labels, List<String> skipped) {
    public int size() {
        return labels.length;
    }
}
