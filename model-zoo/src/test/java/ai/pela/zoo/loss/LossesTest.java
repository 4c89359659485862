package ai.pela.zoo.loss;

import static ai.pela.zoo.testing.Fixtures.relativeError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.testing.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Loss values and gradients against PyTorch autograd (fixtures/losses/losses.safetensors). */
class LossesTest {
    private static StateDict ref;

    @BeforeAll
    static void load() {
        ref = Fixtures.safetensors("losses/losses.safetensors");
    }

    private static double scalar(String key) {
        return ref.get(key).getDouble(0);
    }

    @Test
    void crossEntropyWithLabelSmoothing() {
        SameDiff sd = SameDiff.create();
        SDVariable logits = sd.var("logits", ref.get("ce.logits").dup());
        INDArray labelsF = ref.get("ce.labels");
        int[] labels = new int[(int) labelsF.length()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = (int) labelsF.getDouble(i);
        }
        SDVariable targets = sd.constant("targets", Losses.smoothedTargets(labels, 10, 0.1));
        SDVariable loss = Losses.crossEntropy(sd, "ce", logits, targets);
        sd.setLossVariables(loss);
        OutAndGrad r = sd.calculateGradientsAndOutputs(Map.of(), List.of("ce"), List.of("logits"));
        assertThat(r.getOutputs().get("ce").getDouble(0)).isCloseTo(scalar("ce.loss"), within(1e-5));
        assertThat(relativeError(r.getGradients().get("logits"), ref.get("ce.grad_logits"))).isLessThan(1e-5);
    }

    @ParameterizedTest
    @EnumSource(FdForm.class)
    void featureDistillationBothForms(FdForm form) {
        SameDiff sd = SameDiff.create();
        List<SDVariable> s = new ArrayList<>();
        List<SDVariable> t = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            s.add(sd.var("s" + i, ref.get("fd.student." + i).dup()));
            t.add(sd.constant("t" + i, ref.get("fd.teacher." + i)));
            names.add("s" + i);
        }
        SDVariable loss = Losses.featureDistillation(sd, "fd", s, t, form);
        sd.setLossVariables(loss);
        OutAndGrad r = sd.calculateGradientsAndOutputs(Map.of(), List.of("fd"), names);
        String f = form == FdForm.CODE ? "code" : "paper";
        assertThat(r.getOutputs().get("fd").getDouble(0)).isCloseTo(scalar("fd." + f + ".loss"),
                within(1e-5 * Math.abs(scalar("fd." + f + ".loss"))));
        for (int i = 0; i < 3; i++) {
            assertThat(relativeError(r.getGradients().get("s" + i), ref.get("fd." + f + ".grad." + i)))
                    .as("grad of block %d", i).isLessThan(1e-5);
        }
    }

    @ParameterizedTest
    @EnumSource(RwpForm.class)
    void weightPerturbationBothForms(RwpForm form) {
        SameDiff sd = SameDiff.create();
        List<Losses.Decomposed> layers = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            layers.add(new Losses.Decomposed(sd.var("w0_" + k, ref.get("rwp.W0." + k).dup()),
                    sd.var("w1_" + k, ref.get("rwp.W1." + k).dup()), sd.constant("w_" + k, ref.get("rwp.W." + k))));
            names.add("w0_" + k);
            names.add("w1_" + k);
        }
        SDVariable loss = Losses.weightPerturbation(sd, "rwp", layers, scalar("rwp.eps"), form);
        sd.setLossVariables(loss);
        OutAndGrad r = sd.calculateGradientsAndOutputs(Map.of(), List.of("rwp"), names);
        String f = form == RwpForm.CODE ? "code" : "paper";
        double expected = scalar("rwp." + f + ".loss");
        assertThat(r.getOutputs().get("rwp").getDouble(0)).isCloseTo(expected, within(1e-5 * Math.abs(expected) + 1e-9));
        for (int k = 0; k < 3; k++) {
            assertThat(relativeError(r.getGradients().get("w0_" + k), ref.get("rwp." + f + ".grad_W0." + k)))
                    .as("grad W0 %d", k).isLessThan(1e-5);
            assertThat(relativeError(r.getGradients().get("w1_" + k), ref.get("rwp." + f + ".grad_W1." + k)))
                    .as("grad W1 %d", k).isLessThan(1e-5);
        }
    }
}
