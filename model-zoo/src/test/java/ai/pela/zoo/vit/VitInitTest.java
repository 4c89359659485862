package ai.pela.zoo.vit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.pela.zoo.config.Presets;
import ai.pela.zoo.io.StateDict;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class VitInitTest {
    @Test
    void seededTruncatedNormalWeightsZeroBiasesUnitNorms() {
        var cfg = Presets.get("deit_tiny_patch16_224");
        StateDict a = VitInit.random(cfg, 7);
        StateDict b = VitInit.random(cfg, 7);
        StateDict c = VitInit.random(cfg, 8);
        a.checkMatches("init", VitLayout.parameterShapes(cfg));
        INDArray w = a.get("blocks.3.mlp.fc1.weight");
        assertThat(w).isEqualTo(b.get("blocks.3.mlp.fc1.weight"));
        assertThat(w).isNotEqualTo(c.get("blocks.3.mlp.fc1.weight"));
        assertThat(w.stdNumber().doubleValue()).isCloseTo(0.0176, within(0.002)); // std of N(0, .02) cut at 2σ
        assertThat(w.amaxNumber().doubleValue()).isLessThanOrEqualTo(0.04 + 1e-6);
        assertThat(a.get("blocks.3.mlp.fc1.bias").sumNumber().doubleValue()).isZero();
        assertThat(a.get("norm.weight").minNumber().doubleValue()).isEqualTo(1.0);
    }
}
