package ai.pela.zoo.info;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinLayout;
import ai.pela.zoo.swin.SwinPresets;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.Test;

/** Swin-B against the PELA paper's Table 1 (87.8 M → 62.2 M parameters, 30.3 → 21.3 GFLOPs at κ = 1.5). */
class SwinInfoTest {
    private static final SwinConfig BASE = SwinPresets.get("swin_base_patch4_window7_224");

    private static ModelInfo.Summary student(SwinConfig t, double kappa) {
        return ModelInfo.of(t.withLowRank(LowRank.plan(SwinLayout.linears(t), kappa, LowRank.SWIN_OMIT)));
    }

    @Test
    void swinBaseMatchesTable1WithTheSwinOmitList() {
        ModelInfo.Summary t = ModelInfo.of(BASE);
        ModelInfo.Summary s = student(BASE, 1.5);
        assertThat(t.params()).isEqualTo(87_768_224L); // 87.8 M
        assertThat(s.params()).isEqualTo(62_164_128L); // 62.2 M
        // Table 1 counts the Linears (2 × multiply-adds) without the window attention's matmuls: 30.3 → 21.3.
        assertThat(t.gflopsLinear()).isCloseTo(30.3, Percentage.withPercentage(0.5));
        assertThat(s.gflopsLinear()).isCloseTo(21.3, Percentage.withPercentage(0.6));
        // With them it is the Swin paper's 15.4 G multiply-adds, doubled.
        assertThat(t.gflops()).isCloseTo(2 * 15.4, Percentage.withPercentage(0.5));
    }

    @Test
    void windowAttentionCostsTokensTimesWindowTimesDimPerMatmul() {
        ModelInfo.Summary t = ModelInfo.of(BASE);
        ModelInfo.Layer first = t.layers().stream().filter(l -> l.name().equals("layers.0.blocks.0.attn.matmul"))
                .findFirst().orElseThrow();
        assertThat(first.kind()).isEqualTo("attention");
        assertThat(first.params()).isZero();
        assertThat(first.macs()).isEqualTo(2L * 56 * 56 * 49 * 128);
        ModelInfo.Layer last = t.layers().stream().filter(l -> l.name().equals("layers.3.blocks.1.attn.matmul"))
                .findFirst().orElseThrow();
        assertThat(last.macs()).isEqualTo(2L * 7 * 7 * 49 * 1024);
        assertThat(t.layers().stream().mapToLong(ModelInfo.Layer::macs).sum()).isEqualTo(t.macs());
        assertThat(t.layers().stream().filter(l -> l.kind().equals("attention")).count()).isEqualTo(24);
    }

    @Test
    void theStudentDecomposesQkvAndMlpButNotProjDownsampleOrHead() {
        ModelInfo.Summary s = student(BASE, 1.5);
        assertThat(kind(s, "layers.2.blocks.5.attn.qkv")).isEqualTo("lowrank");
        assertThat(kind(s, "layers.2.blocks.5.mlp.fc1")).isEqualTo("lowrank");
        assertThat(kind(s, "layers.2.blocks.5.attn.proj")).isEqualTo("linear");
        assertThat(kind(s, "layers.2.downsample.reduction")).isEqualTo("linear");
        assertThat(kind(s, "head")).isEqualTo("linear");
        assertThat(kind(s, "patch_embed.proj")).isEqualTo("conv");
        ModelInfo.Layer qkv = s.layers().stream().filter(l -> l.name().equals("layers.0.blocks.0.attn.qkv")).findFirst().orElseThrow();
        assertThat(qkv.rank()).isEqualTo(128 * 384 * 2 / (3 * 512)); // floor(d_in·d_out / (1.5·(d_in + d_out))) = 64
        assertThat(qkv.gflops()).isCloseTo(2.0 * 56 * 56 * 64 * (128 + 384) / 1e9, within(1e-12));
    }

    @Test
    void window12At384CountsTheLargerWindows() {
        SwinConfig c = SwinPresets.get("swin_base_patch4_window12_384");
        ModelInfo.Summary t = ModelInfo.of(c);
        ModelInfo.Layer first = t.layers().stream().filter(l -> l.name().equals("layers.0.blocks.0.attn.matmul"))
                .findFirst().orElseThrow();
        assertThat(first.macs()).isEqualTo(2L * 96 * 96 * 144 * 128);
        // The bias tables grow with the window: 23² rows instead of 13².
        assertThat(t.params() - ModelInfo.of(BASE).params()).isEqualTo((23L * 23 - 13 * 13)
                * (2 * 4 + 2 * 8 + 18 * 16 + 2 * 32)); // heads per block, summed over blocks
    }

    private static String kind(ModelInfo.Summary s, String name) {
        return s.layers().stream().filter(l -> l.name().equals(name)).findFirst().orElseThrow().kind();
    }
}
