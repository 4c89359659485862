package ai.pela.zoo.swin;

import ai.pela.zoo.io.StateDict;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.TruncatedNormalDistribution;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A Swin's initialisation for training from scratch, as timm's: weights and relative position bias tables from a
 * normal with std 0.02 truncated at ±2 std, biases 0, LayerNorm weights 1 (the patch embedding's conv takes the
 * Linears' rule rather than PyTorch's default uniform). Seeded, so the same seed gives the same model.
 */
public final class SwinInit {
    private static final double STD = 0.02;

    private SwinInit() {
    }

    public static StateDict random(SwinConfig config, long seed) {
        Random rng = Nd4j.getRandomFactory().getNewRandomInstance(seed);
        StateDict sd = new StateDict();
        for (Map.Entry<String, long[]> e : SwinLayout.parameterShapes(config).entrySet()) {
            sd.put(e.getKey(), init(e.getKey(), e.getValue(), rng));
        }
        return sd;
    }

    private static INDArray init(String key, long[] shape, Random rng) {
        if (key.endsWith(".bias")) {
            return Nd4j.zeros(DataType.FLOAT, shape);
        }
        if (key.contains("norm") && key.endsWith(".weight")) {
            return Nd4j.ones(DataType.FLOAT, shape);
        }
        return Nd4j.getExecutioner().exec(
                new TruncatedNormalDistribution(Nd4j.createUninitialized(DataType.FLOAT, shape), 0.0, STD), rng);
    }
}
