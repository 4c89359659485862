package ai.pela.zoo.albef;

import ai.pela.zoo.io.StateDict;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.GaussianDistribution;
import org.nd4j.linalg.api.ops.random.impl.TruncatedNormalDistribution;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ALBEF's initialisation for training from scratch, seeded: timm's for the image encoder and the heads (weights
 * and cls/pos embeddings from a normal with std 0.02 truncated at ±2 std, biases 0), HF BERT's for the text side
 * (normal std 0.02, the padding row of the word embeddings 0), LayerNorms 1 and 0, the temperature from the config.
 * Pretrained runs load DeiT and BERT weights instead; this is for tests, benchmarks and toy runs.
 */
public final class AlbefInit {
    private static final double STD = 0.02;

    private AlbefInit() {
    }

    public static StateDict random(AlbefConfig config, long seed) {
        Random rng = Nd4j.getRandomFactory().getNewRandomInstance(seed);
        StateDict sd = new StateDict();
        for (Map.Entry<String, long[]> e : AlbefLayout.parameterShapes(config).entrySet()) {
            sd.put(e.getKey(), init(e.getKey(), e.getValue(), config, rng));
        }
        return sd;
    }

    private static INDArray init(String key, long[] shape, AlbefConfig config, Random rng) {
        if (key.equals(AlbefLayout.TEMP)) {
            return Nd4j.scalar((float) config.temp());
        }
        if (key.endsWith(".bias")) {
            return Nd4j.zeros(DataType.FLOAT, shape);
        }
        if ((key.contains("LayerNorm") || key.contains("norm")) && key.endsWith(".weight")) {
            return Nd4j.ones(DataType.FLOAT, shape);
        }
        if (key.startsWith(AlbefLayout.BERT) || key.startsWith("text_encoder.")) {
            INDArray w = Nd4j.getExecutioner().exec( // HF: normal_(0, initializer_range)
                    new GaussianDistribution(Nd4j.createUninitialized(DataType.FLOAT, shape), 0.0, STD), rng);
            if (key.equals(AlbefLayout.WORD_EMBEDDINGS)) {
                w.getRow(config.text().padTokenId()).assign(0);
            }
            return w;
        }
        return Nd4j.getExecutioner().exec(
                new TruncatedNormalDistribution(Nd4j.createUninitialized(DataType.FLOAT, shape), 0.0, STD), rng);
    }
}
