package ai.pela.zoo.train;

import static ai.pela.zoo.testing.Fixtures.relativeError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.testing.Fixtures;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Our AdamW + clipping against torch.optim.AdamW + clip_grad_norm_ (fixtures/adamw/adamw.safetensors). */
class AdamWTest {
    @Test
    void threeClippedStepsMatchTorch() {
        StateDict ref = Fixtures.safetensors("adamw/adamw.safetensors");
        Map<String, INDArray> params = new LinkedHashMap<>();
        params.put("w", ref.get("p.w").dup());
        params.put("b", ref.get("p.b").dup());
        AdamW opt = new AdamW(new AdamW.Config(0.9, 0.999, 1e-8, 0.05), params);
        double maxNorm = ref.get("clip.max_norm").getDouble(0);
        for (int s = 0; s < 3; s++) {
            Map<String, INDArray> grads = new HashMap<>();
            grads.put("w", ref.get("g." + s + ".w").dup());
            grads.put("b", ref.get("g." + s + ".b").dup());
            double norm = AdamW.clipGradNorm(grads, maxNorm);
            assertThat(norm).isCloseTo(ref.get("clip.total_norm." + s).getDouble(0), within(1e-4));
            opt.update(params, grads, ref.get("lr." + s).getDouble(0));
            assertThat(relativeError(params.get("w"), ref.get("after." + s + ".w"))).as("w step %d", s).isLessThan(1e-5);
            assertThat(relativeError(params.get("b"), ref.get("after." + s + ".b"))).as("b step %d", s).isLessThan(1e-5);
        }
        assertThat(relativeError(opt.firstMoments().get("w"), ref.get("state.m.w"))).isLessThan(1e-5);
        assertThat(relativeError(opt.secondMoments().get("b"), ref.get("state.v.b"))).isLessThan(1e-5);
    }

    @Test
    void stateSurvivesExportAndImportThroughFlatVectors() {
        Map<String, INDArray> params = new LinkedHashMap<>();
        params.put("a", org.nd4j.linalg.factory.Nd4j.rand(3, 4));
        params.put("b", org.nd4j.linalg.factory.Nd4j.rand(4));
        AdamW opt = new AdamW(AdamW.Config.defaults(0.1), params);
        opt.update(params, Map.of("a", org.nd4j.linalg.factory.Nd4j.rand(3, 4), "b", org.nd4j.linalg.factory.Nd4j.rand(4)), 0.01);
        OptimizerState st = opt.exportState(List.of("a", "b"));
        assertThat(st.m().length()).isEqualTo(16);
        AdamW other = new AdamW(AdamW.Config.defaults(0.1), params);
        other.importState(st, List.of("a", "b"));
        assertThat(other.step()).isEqualTo(1);
        assertThat(other.secondMoments().get("a")).isEqualTo(opt.secondMoments().get("a"));
    }

    @Test
    void noWeightDecayOnNormsBiasesClsTokenAndPosEmbed() {
        var two = org.nd4j.linalg.factory.Nd4j.zeros(2, 2);
        assertThat(AdamW.decays("blocks.0.attn.qkv.weight", two)).isTrue();
        assertThat(AdamW.decays("blocks.0.attn.qkv.0.weight", two)).isTrue();
        assertThat(AdamW.decays("blocks.0.norm1.weight", org.nd4j.linalg.factory.Nd4j.zeros(4))).isFalse();
        assertThat(AdamW.decays("cls_token", org.nd4j.linalg.factory.Nd4j.zeros(1, 1, 4))).isFalse();
        assertThat(AdamW.decays("pos_embed", org.nd4j.linalg.factory.Nd4j.zeros(1, 5, 4))).isFalse();
        // the official Swin code's skip keyword
        assertThat(AdamW.decays("layers.0.blocks.1.attn.relative_position_bias_table", two)).isFalse();
    }

    @Test
    void cosineScheduleWarmsUpLinearlyThenDecays() {
        CosineSchedule s = new CosineSchedule(1e-3, 1e-5, 1e-6, 10, 110);
        assertThat(s.lr(0)).isCloseTo(1e-6, within(1e-12));
        assertThat(s.lr(5)).isCloseTo(1e-6 + (1e-3 - 1e-6) * 0.5, within(1e-12));
        assertThat(s.lr(10)).isCloseTo(1e-3, within(1e-12));
        assertThat(s.lr(60)).isCloseTo(1e-5 + 0.5 * (1e-3 - 1e-5), within(1e-12));
        assertThat(s.lr(110)).isCloseTo(1e-5, within(1e-12));
    }
}
