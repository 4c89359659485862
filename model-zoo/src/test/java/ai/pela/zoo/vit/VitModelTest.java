package ai.pela.zoo.vit;

import static ai.pela.zoo.testing.Fixtures.relativeError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.testing.Fixtures;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Logits and block features against PyTorch (a timm-named ViT cross-checked against torchvision's). */
class VitModelTest {
    @ParameterizedTest
    @ValueSource(strings = {"vit_token", "vit_avg", "vit_token_lowrank_k2"})
    void logitsAndBlockFeaturesMatchPyTorch(String set) {
        VitModel model = VitModel.create(Fixtures.config(set), Fixtures.weights(set), set);
        VitModel.Output out = model.forward(Fixtures.npy(set + "/input.npy"));
        assertThat(relativeError(out.logits(), Fixtures.npy(set + "/logits.npy"))).isLessThan(1e-4);
        INDArray expected = Fixtures.npy(set + "/features.npy");
        for (int i = 0; i < out.features().size(); i++) {
            INDArray ref = expected.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
            assertThat(relativeError(out.features().get(i), ref)).as("block %d", i).isLessThan(1e-4);
        }
    }

    /** The FP16 teacher (a GPU option) against PyTorch's FP32 logits: half precision's 11-bit mantissa, no worse. */
    @Test
    void anFp16TeacherStaysWithinHalfPrecisionOfPyTorch() {
        VitModel half = VitModel.create(Fixtures.config("vit_token"), Fixtures.weights("vit_token"), "vit_token",
                org.nd4j.linalg.api.buffer.DataType.HALF);
        VitModel.Output out = half.forward(Fixtures.npy("vit_token/input.npy"));
        assertThat(out.logits().dataType()).isEqualTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
        double err = relativeError(out.logits(), Fixtures.npy("vit_token/logits.npy"));
        System.out.printf("FP16 teacher: relative error of the logits vs PyTorch FP32 %.2e%n", err);
        assertThat(err).isLessThan(1e-2).isGreaterThan(1e-6); // really computed in FP16, really close
    }

    @Test
    void batchedLogitsEqualOneShotLogits() {
        VitModel model = VitModel.create(Fixtures.config("vit_token"), Fixtures.weights("vit_token"), "vit_token");
        INDArray x = Fixtures.npy("vit_token/input.npy");
        assertThat(relativeError(model.logits(x, 3), model.logits(x))).isLessThan(1e-6);
    }

    @Test
    void checkpointWithMissingAndUnexpectedKeysIsRejectedListingThem() {
        ModelConfig cfg = Fixtures.config("vit_token");
        StateDict sd = new StateDict(Fixtures.weights("vit_token").asMap());
        StateDict broken = new StateDict();
        sd.asMap().forEach((k, v) -> {
            if (!k.equals("head.bias")) {
                broken.put(k.equals("norm.weight") ? "fc_norm.weight" : k, v);
            }
        });
        assertThatThrownBy(() -> VitModel.create(cfg, broken, "teacher.safetensors"))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("teacher.safetensors")
                .hasMessageContaining("missing keys [norm.weight, head.bias]")
                .hasMessageContaining("unexpected keys [fc_norm.weight]");
    }

    @Test
    void shapeMismatchNamesTheKeyAndBothShapes() {
        ModelConfig cfg = Fixtures.config("vit_token");
        StateDict sd = new StateDict(Fixtures.weights("vit_token").asMap());
        sd.put("blocks.1.mlp.fc1.weight", Nd4j.zeros(100, 48));
        assertThatThrownBy(() -> VitModel.create(cfg, sd, "t.safetensors"))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("'blocks.1.mlp.fc1.weight'")
                .hasMessageContaining("[100, 48]").hasMessageContaining("[192, 48]");
    }

    @Test
    void layoutKeysAreTimmsStateDictKeysInOrder() {
        List<String> keys = List.copyOf(VitLayout.parameterShapes(Fixtures.config("vit_token")).keySet());
        assertThat(keys).containsExactlyElementsOf(Fixtures.weights("vit_token").keys());
    }
}
