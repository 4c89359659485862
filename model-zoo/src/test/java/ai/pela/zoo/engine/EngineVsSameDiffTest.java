package ai.pela.zoo.engine;

import static ai.pela.zoo.testing.Fixtures.relativeError;
import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.config.Presets;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.loss.Losses;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.train.GraphPelaStep;
import ai.pela.zoo.train.PelaStep;
import ai.pela.zoo.train.StepHyper;
import ai.pela.zoo.vit.VitGraph;
import ai.pela.zoo.vit.VitInit;
import ai.pela.zoo.vit.VitLayout;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The engine against the SameDiff graph the service ran before it ({@link VitGraph}, the oracle): the same logits
 * and the same gradient of the cross-entropy for every parameter, on deit_tiny's shapes (a κ=2 student at 224²) and
 * on a DeiT-III-like model (LayerScale, position embedding without the class token, average pooling), which no
 * PyTorch fixture covers.
 */
class EngineVsSameDiffTest {

    @Test
    void deitTinyStudentEqualsTheSameDiffGraph() {
        ModelConfig teacher = Presets.get("deit_tiny_patch16_224").withNumClasses(10);
        LowRank.Student s = LowRank.compress(teacher, VitInit.random(teacher, 3), 2, LowRank.VIT_OMIT);
        compare(s.config(), s.weights(), 2, 2e-4);
    }

    @Test
    void aDeit3LikeModelEqualsTheSameDiffGraph() {
        ModelConfig c = new ModelConfig("vit", 32, 8, 3, 48, 3, 4, 2.0, 7, "avg", true, false, 0.5, true,
                ModelConfig.IMAGENET_MEAN, ModelConfig.IMAGENET_STD, null);
        StateDict w = VitInit.random(c, 5);
        for (String k : w.keys()) {
            if (k.contains(".ls")) {
                w.put(k, Nd4j.rand(DataType.FLOAT, w.get(k).shape()).addi(0.5));
            }
        }
        compare(c, w, 3, 1e-4);
    }

    private static void compare(ModelConfig cfg, StateDict weights, int batch, double tolerance) {
        INDArray images = Nd4j.randn(42, new long[] {batch, cfg.inChans(), cfg.imgSize(), cfg.imgSize()}).castTo(DataType.FLOAT);
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = (3 * i + 1) % cfg.numClasses();
        }
        PelaStep engine = new PelaStep(cfg, weights, null, null, StepHyper.supervised(1e-3, 0.05, 0.1));
        PelaStep.Losses l = engine.lossesAndGradients(images, labels);

        SameDiff sd = SameDiff.create();
        VitGraph.Handles h = VitGraph.build(sd, cfg, weights, true);
        SDVariable targets = sd.placeHolder("targets", DataType.FLOAT, -1, cfg.numClasses());
        SDVariable loss = Losses.crossEntropy(sd, "loss", h.logits(), targets);
        sd.setLossVariables(loss);
        GraphPelaStep.createGradFunctionQuietly(sd);
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(VitGraph.INPUT, images);
        ph.put("targets", Losses.smoothedTargets(labels, cfg.numClasses(), 0.1));
        List<String> names = List.copyOf(VitLayout.parameterShapes(cfg).keySet());
        Map<String, INDArray> grads = sd.calculateGradients(ph, names);
        double graphLoss = sd.output(ph, "loss").get("loss").getDouble(0);

        assertThat(l.base()).isCloseTo(graphLoss, org.assertj.core.data.Offset.offset(1e-5 * Math.abs(graphLoss)));
        for (String name : names) {
            assertThat(relativeError(engine.gradients().get(name), grads.get(name))).as(name).isLessThan(tolerance);
        }
        INDArray graphLogits = sd.output(ph, VitGraph.LOGITS).get(VitGraph.LOGITS);
        assertThat(relativeError(engine.logits(images), graphLogits)).isLessThan(1e-5);
    }
}
