package ai.pela.zoo.albef;

import ai.pela.zoo.train.TrainBatch;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An ALBEF batch as the parameter-averaging trainer hands it to {@link AlbefPelaStep}: the image-caption pairs
 * (captions tokenised and MLM-masked on the executor) and the batch's seed. The seed, not the step's history,
 * seeds the ITM hard-negative draw, so a retried task or a resumed run draws exactly the same negatives.
 */
public record AlbefTrainBatch(AlbefBatch pairs, long seed) implements TrainBatch {
    @Override
    public INDArray images() {
        return pairs.images();
    }

    @Override
    public int size() {
        return pairs.size();
    }

    @Override
    public void close() {
        for (INDArray a : new INDArray[] {pairs.images(), pairs.inputIds(), pairs.attentionMask(), pairs.mlmInputIds(),
                pairs.mlmLabels()}) {
            if (a.closeable()) {
                a.close();
            }
        }
    }
}
