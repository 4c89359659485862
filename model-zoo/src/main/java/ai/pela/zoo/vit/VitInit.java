package ai.pela.zoo.vit;

import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.TruncatedNormalDistribution;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;

/**
 * timm's ViT initialisation for training from scratch: weights and cls/pos embeddings from a normal with
 * std 0.02 truncated at ±2 std (redrawn), biases 0, LayerNorm weights 1, LayerScale gammas {@code init_values}.
 * Seeded, so the same seed gives the same model.
 */
public final class VitInit {
    private static final double STD = 0.02;

    private VitInit() {
    }

    public static StateDict random(ModelConfig config, long seed) {
        return timm(VitLayout.parameterShapes(config), config.initValues(), seed);
    }

    /**
     * timm's rule for every tensor of a timm-style layout ({@code shapes} in checkpoint order; the ViT's, and Swin's
     * with its relative position bias tables drawn like weights): LayerScale gammas at {@code layerScale} (null for a
     * model without LayerScale), the rest as above. The draws follow {@code shapes}' order, so the same seed gives the
     * same model.
     */
    public static StateDict timm(Map<String, long[]> shapes, Double layerScale, long seed) {
        Random rng = Nd4j.getRandomFactory().getNewRandomInstance(seed);
        StateDict sd = new StateDict();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            sd.put(e.getKey(), init(e.getKey(), e.getValue(), layerScale, rng));
        }
        return sd;
    }

    private static INDArray init(String key, long[] shape, Double layerScale, Random rng) {
        if (key.endsWith(".gamma")) {
            return Nd4j.valueArrayOf(shape, layerScale, DataType.FLOAT);
        }
        if (key.endsWith(".bias")) {
            return Nd4j.zeros(DataType.FLOAT, shape);
        }
        if (key.contains("norm") && key.endsWith(".weight")) {
            return Nd4j.ones(DataType.FLOAT, shape);
        }
        // ND4J's truncated normal redraws values beyond 2 std, like torch's trunc_normal_ at ±2 std.
        return Nd4j.getExecutioner().exec(
                new TruncatedNormalDistribution(Nd4j.createUninitialized(DataType.FLOAT, shape), 0.0, STD), rng);
    }
}
