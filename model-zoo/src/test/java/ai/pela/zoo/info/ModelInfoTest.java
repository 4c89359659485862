package ai.pela.zoo.info;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.config.Presets;
import ai.pela.zoo.lowrank.LowRank;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.Test;

/** The paper's Table 1 figures (PELA.md §1). */
class ModelInfoTest {
    private static ModelInfo.Summary student(String preset, double kappa) {
        ModelConfig t = Presets.get(preset);
        return ModelInfo.of(t.withLowRank(LowRank.plan(t, kappa, LowRank.VIT_OMIT)));
    }

    @Test
    void deitBaseIs86point6MillionAndHalvesAtKappa2() {
        ModelInfo.Summary t = ModelInfo.of(Presets.get("deit_base_patch16_224"));
        ModelInfo.Summary s = student("deit_base_patch16_224", 2);
        assertThat((double) t.params()).isCloseTo(86.6e6, Percentage.withPercentage(0.5));
        assertThat((double) s.params()).isCloseTo(44.1e6, Percentage.withPercentage(0.5));
        // Table 1 counts Linear / patch-embedding FLOPs: 33.7 -> 17.0 GFLOPs.
        assertThat(t.gflopsLinear()).isCloseTo(33.7, Percentage.withPercentage(0.5));
        assertThat(s.gflopsLinear()).isCloseTo(17.0, Percentage.withPercentage(0.5));
        assertThat(t.gflops()).isGreaterThan(t.gflopsLinear());
    }

    @Test
    void deit3LargeIs304point4MillionAnd153point2AtKappa2() {
        assertThat((double) ModelInfo.of(Presets.get("deit3_large_patch16_224")).params())
                .isCloseTo(304.4e6, Percentage.withPercentage(0.5));
        assertThat((double) student("deit3_large_patch16_224", 2).params())
                .isCloseTo(153.2e6, Percentage.withPercentage(0.5));
    }

    @Test
    void deitBaseAtKappa3IsAbout29point9Million() {
        assertThat((double) student("deit_base_patch16_224", 3).params()).isCloseTo(29.9e6, Percentage.withPercentage(0.5));
    }

    @Test
    void perLayerFiguresAddUpAndAttentionMatmulsHaveNoParameters() {
        ModelConfig c = Presets.get("deit_tiny_patch16_224");
        ModelInfo.Summary t = ModelInfo.of(c);
        long macs = t.layers().stream().mapToLong(ModelInfo.Layer::macs).sum();
        assertThat(macs).isEqualTo(t.macs());
        ModelInfo.Layer qk = t.layers().stream().filter(l -> l.kind().equals("attention")).findFirst().orElseThrow();
        assertThat(qk.params()).isZero();
        assertThat(qk.macs()).isEqualTo(2L * 197 * 197 * 192);
        ModelInfo.Layer qkv = t.layers().stream().filter(l -> l.name().equals("blocks.0.attn.qkv")).findFirst().orElseThrow();
        assertThat(qkv.params()).isEqualTo(192L * 576 + 576);
        assertThat(qkv.gflops()).isCloseTo(2.0 * 197 * 192 * 576 / 1e9, within(1e-12));
    }
}
