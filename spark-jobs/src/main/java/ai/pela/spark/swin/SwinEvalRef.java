package ai.pela.spark.swin;

import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.jobs.EvaluateJob;
import ai.pela.spark.train.Fingerprint;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinModel;

/** A Swin (teacher or student) for {@code evaluate}: its architecture and the Hadoop path of its checkpoint. */
public record SwinEvalRef(SwinConfig config, String weights, SerializableConf hadoop) implements EvaluateJob.Ref {
    @Override
    public String key() {
        return "swin|" + weights + "|" + Fingerprint.of(config);
    }

    @Override
    public EvaluateJob.Classifier load() {
        return SwinModel.create(config, SwinFiles.readWeights(hadoop.storage(), weights, config), weights)::logits;
    }
}
