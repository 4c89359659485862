package ai.pela.spark.dense;

import ai.pela.spark.train.Fingerprint;
import ai.pela.spark.train.ModelSpec;
import ai.pela.spark.train.StepFactory;
import ai.pela.zoo.dense.DenseModel;
import ai.pela.zoo.dense.DenseStep;
import ai.pela.zoo.dense.HeadConfig;
import ai.pela.zoo.dense.HeadJson;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.train.TrainStep;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Builds a {@link DenseStep} on an executor: the spec's student is the backbone, this factory carries the head and
 * the backbone's learning-rate scale.
 */
public record DenseStepFactory(HeadConfig head, double backboneLrScale) implements StepFactory {
    @Override
    public TrainStep create(ModelSpec spec, int device) {
        StateDict zeros = new StateDict();
        for (Map.Entry<String, long[]> e : DenseModel.parameterShapes(spec.student(), head).entrySet()) {
            zeros.put(e.getKey(), Nd4j.zeros(DataType.FLOAT, e.getValue()));
        }
        return new DenseStep(spec.student(), head, zeros, spec.hyper(), backboneLrScale);
    }

    @Override
    public String key() {
        return head.type() + ":" + Fingerprint.of(HeadJson.toJsonString(head)) + ":" + backboneLrScale;
    }
}
