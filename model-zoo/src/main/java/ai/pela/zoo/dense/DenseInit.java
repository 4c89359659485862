package ai.pela.zoo.dense;

import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.GaussianDistribution;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A dense model's starting point: the backbone from a classification checkpoint (teacher, naive low-rank or PELA
 * student) and a freshly initialised head, seeded. Head initialisation follows the reference code: the prediction
 * convs ({@code conv_seg}, FCOS's towers and outputs) from N(0, 0.01²) as mmseg's and mmdet's heads, FCOS's
 * classification bias at −log((1 − 0.01)/0.01) so every class starts at probability 0.01 (focal loss's prior),
 * the other convs Kaiming-normal (fan-out, ReLU gain) as mmcv's ConvModule and detectron2's c2_msra_fill, norms at
 * weight 1 and bias 0, FCOS's scales at 1.
 */
public final class DenseInit {
    private static final double HEAD_STD = 0.01;
    private static final double PRIOR = 0.01;

    private DenseInit() {
    }

    public static StateDict initial(ModelConfig vit, StateDict vitWeights, HeadConfig head, long seed, String source) {
        StateDict sd = Backbone.fromClassifier(vit, vitWeights, head, source);
        Random rng = Nd4j.getRandomFactory().getNewRandomInstance(seed);
        for (Map.Entry<String, long[]> e : DenseModel.parameterShapes(vit, head).entrySet()) {
            if (!e.getKey().startsWith(Backbone.PREFIX)) {
                sd.put(e.getKey(), init(e.getKey(), e.getValue(), rng));
            }
        }
        return sd;
    }

    static INDArray init(String key, long[] shape, Random rng) {
        if (key.endsWith(".scale")) {
            return Nd4j.ones(DataType.FLOAT, shape);
        }
        if (key.endsWith(".bias")) {
            double b = key.equals(Fcos.HEAD + "conv_cls.bias") ? -Math.log((1 - PRIOR) / PRIOR) : 0;
            return Nd4j.valueArrayOf(shape, b, DataType.FLOAT);
        }
        if (shape.length == 1) {
            return Nd4j.ones(DataType.FLOAT, shape); // GroupNorm / LayerNorm weights
        }
        double std = key.startsWith(Fcos.HEAD) || key.startsWith(UperNet.HEAD + "conv_seg")
                ? HEAD_STD : Math.sqrt(2.0 / (shape[0] * shape[2] * shape[3]));
        return Nd4j.getExecutioner().exec(new GaussianDistribution(Nd4j.createUninitialized(DataType.FLOAT, shape), 0.0, std), rng);
    }
}
