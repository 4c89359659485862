package ai.pela.zoo.dense;

import static ai.pela.zoo.testing.Fixtures.relativeError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.train.StepHyper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * UperNet and ViTDet-FCOS against hand-written PyTorch references of mmseg's / detectron2's / mmdet's modules:
 * forward outputs, losses and the gradients of parameters from the classifier to the first backbone block.
 */
class DenseModelTest {
    private static final double TOL = 1e-4;

    @Test
    void upernetLogitsMatchPyTorch() {
        HeadConfig head = DenseFixtures.head("upernet");
        DenseModel m = DenseModel.create(DenseFixtures.vitConfig(), head, DenseFixtures.denseWeights("upernet"), "fixture");
        INDArray logits = m.forward(DenseFixtures.npy("input.npy")).get(DenseModel.SEG_LOGITS);
        assertThat(logits.shape()).containsExactly(2, 5, 32, 32);
        assertThat(relativeError(logits, DenseFixtures.npy("upernet_logits.npy"))).isLessThan(TOL);
    }

    @Test
    void upernetLossAndGradientsMatchPyTorch() {
        DenseStep step = new DenseStep(DenseFixtures.vitConfig(), DenseFixtures.head("upernet"),
                DenseFixtures.denseWeights("upernet"), StepHyper.supervised(1e-3, 0.0, 0.0));
        int[] labels = DenseFixtures.npy("upernet_labels.npy").data().asInt();
        StateDict ref = DenseFixtures.tensors("upernet_loss.safetensors");
        List<String> names = gradNames(ref);
        Map<String, INDArray> out = step.lossAndGradients(new SegBatch(DenseFixtures.npy("input.npy"), labels), names);
        assertThat(out.get("loss").getDouble(0)).isCloseTo(ref.get("loss").getDouble(0), within(1e-5));
        for (String n : names) {
            assertThat(relativeError(out.get("grad." + n), ref.get("grad." + n))).as(n).isLessThan(TOL);
        }
    }

    @Test
    void fcosOutputsMatchPyTorch() {
        HeadConfig head = DenseFixtures.head("fcos");
        DenseModel m = DenseModel.create(DenseFixtures.vitConfig(), head, DenseFixtures.denseWeights("fcos"), "fixture");
        Map<String, INDArray> out = m.forward(DenseFixtures.npy("input16.npy"));
        StateDict ref = DenseFixtures.tensors("fcos.safetensors");
        assertThat(out.get(Fcos.CLS).shape()).containsExactly(2 * 340, 3);
        assertThat(relativeError(out.get(Fcos.CLS), ref.get("out.cls"))).isLessThan(TOL);
        assertThat(relativeError(out.get(Fcos.REG), ref.get("out.reg"))).isLessThan(TOL);
        assertThat(relativeError(out.get(Fcos.CTR), ref.get("out.ctr"))).isLessThan(TOL);
    }

    @Test
    void fcosTargetsMatchMmdetsAssignment() {
        FcosConfig head = (FcosConfig) DenseFixtures.head("fcos");
        StateDict ref = DenseFixtures.tensors("fcos.safetensors");
        FcosTargets.Points pts = FcosTargets.points(head, DenseFixtures.vitConfig());
        float[] labels = ref.get("t.labels").toFloatVector();
        float[] dist = ref.get("t.distances").data().asFloat();
        float[] ctr = ref.get("t.centerness").toFloatVector();
        int pos = 0;
        for (int img = 0; img < 2; img++) {
            FcosTargets.ImageTargets t = FcosTargets.assign(pts, DenseFixtures.boxes(ref, img), head.regressRanges(),
                    head.centerRadius());
            for (int p = 0; p < pts.size(); p++) {
                int r = img * pts.size() + p;
                int expected = labels[r] == head.numClasses() ? -1 : (int) labels[r];
                assertThat(t.labels()[p]).as("image %d point %d", img, p).isEqualTo(expected);
                if (expected >= 0) {
                    for (int k = 0; k < 4; k++) {
                        assertThat(t.distances()[4 * p + k]).isCloseTo(dist[4 * r + k], within(1e-5f));
                    }
                    assertThat(t.centerness()[p]).isCloseTo(ctr[pos++], within(1e-5f));
                }
            }
        }
        assertThat(pos).isEqualTo(ref.get("t.pos").length());
    }

    @Test
    void fcosLossesAndGradientsMatchPyTorch() {
        ModelConfig vit = DenseFixtures.vitConfig();
        DenseStep step = new DenseStep(vit, DenseFixtures.head("fcos"), DenseFixtures.denseWeights("fcos"),
                StepHyper.supervised(1e-3, 0.0, 0.0));
        StateDict ref = DenseFixtures.tensors("fcos.safetensors");
        List<String> names = gradNames(ref);
        DetBatch batch = new DetBatch(DenseFixtures.npy("input16.npy"),
                List.of(DenseFixtures.boxes(ref, 0), DenseFixtures.boxes(ref, 1)));
        Map<String, INDArray> out = step.lossAndGradients(batch, names);
        for (String c : List.of("cls", "bbox", "centerness")) {
            double expected = ref.get("loss." + c).getDouble(0);
            assertThat(out.get("loss." + c).getDouble(0)).as(c).isCloseTo(expected, within(1e-5 * Math.abs(expected)));
        }
        for (String n : names) {
            assertThat(relativeError(out.get("grad." + n), ref.get("grad." + n))).as(n).isLessThan(TOL);
        }
    }

    @Test
    void layoutKeysAreTheReferenceModelsKeys() {
        for (String name : List.of("upernet", "fcos")) {
            Map<String, long[]> shapes = DenseModel.parameterShapes(DenseFixtures.vitConfig(), DenseFixtures.head(name));
            assertThat(shapes.keySet()).containsExactlyInAnyOrderElementsOf(DenseFixtures.denseWeights(name).keys());
        }
        assertThat(DenseModel.parameterShapes(DenseFixtures.vitConfig(), DenseFixtures.head("upernet")))
                .containsKeys("decode_head.psp_modules.0.1.conv.weight", "decode_head.lateral_convs.0.conv.weight",
                        "decode_head.fpn_bottleneck.gn.weight", "neck.convs.3.conv.bias", "backbone.norm.weight")
                .doesNotContainKeys("backbone.head.weight");
    }

    @Test
    void aCheckpointWithoutTheHeadFailsListingTheMissingKeys() {
        StateDict backboneOnly = Backbone.fromClassifier(DenseFixtures.vitConfig(), DenseFixtures.vitWeights(),
                DenseFixtures.head("upernet"), "vit.safetensors");
        assertThatThrownBy(() -> DenseModel.create(DenseFixtures.vitConfig(), DenseFixtures.head("upernet"),
                backboneOnly, "seg/model.safetensors"))
                .isInstanceOf(PelaException.class).hasMessageContaining("seg/model.safetensors")
                .hasMessageContaining("decode_head.conv_seg.weight");
    }

    private static List<String> gradNames(StateDict ref) {
        return ref.keys().stream().filter(k -> k.startsWith("grad.")).map(k -> k.substring(5)).toList();
    }
}
