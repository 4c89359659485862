package ai.pela.zoo.swin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.Family;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.lowrank.LowRank;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SwinConfigJsonTest {

    @Test
    void presetsHaveTimmsArchitectures() {
        SwinConfig b = SwinPresets.get("swin_base_patch4_window7_224");
        assertThat(b.embedDim()).isEqualTo(128);
        assertThat(b.depths()).containsExactly(2, 2, 18, 2);
        assertThat(b.numHeads()).containsExactly(4, 8, 16, 32);
        assertThat(b.windowSize()).isEqualTo(7);
        assertThat(b.imgSize()).isEqualTo(224);
        SwinConfig b384 = SwinPresets.get("swin_base_patch4_window12_384");
        assertThat(b384.windowSize()).isEqualTo(12);
        assertThat(b384.resolution(3)).isEqualTo(12);
        assertThat(SwinPresets.get("swin_small_patch4_window7_224").depths()).containsExactly(2, 2, 18, 2);
        assertThat(SwinPresets.get("swin_tiny_patch4_window7_224").numBlocks()).isEqualTo(12);
    }

    @Test
    void hubFormTakesThePresetAndPretrainedCfg() {
        SwinConfig c = SwinConfigJson.parse("""
                {"architecture": "swin_base_patch4_window7_224", "num_classes": 10,
                 "pretrained_cfg": {"input_size": [3, 224, 224], "mean": [0.5, 0.5, 0.5], "std": [0.2, 0.2, 0.2],
                                    "crop_pct": 0.9}}""", "hub.json");
        assertThat(c.architecture()).isEqualTo("swin_base_patch4_window7_224");
        assertThat(c.embedDim()).isEqualTo(128);
        assertThat(c.numClasses()).isEqualTo(10);
        assertThat(c.mean()).containsExactly(0.5, 0.5, 0.5);
        assertThat(c.std()).containsExactly(0.2, 0.2, 0.2);
    }

    @Test
    void explicitFieldsOverrideThePresetAndModelArgsAreRead() {
        SwinConfig c = SwinConfigJson.parse("""
                {"architecture": "swin_tiny_patch4_window7_224", "img_size": [28, 28], "patch_size": 2, "in_chans": 1,
                 "mean": [0.286], "std": [0.353],
                 "model_args": {"embed_dim": 16, "depths": [2, 2], "num_heads": [1, 2], "window_size": 7,
                                "num_classes": 10, "qkv_bias": false, "mlp_ratio": 2}}""", "m.json");
        assertThat(c.imgSize()).isEqualTo(28);
        assertThat(c.resolution(0)).isEqualTo(14);
        assertThat(c.window(1)).isEqualTo(7);
        assertThat(c.shift(1, 1)).isZero();
        assertThat(c.shift(0, 1)).isEqualTo(3);
        assertThat(c.inChans()).isEqualTo(1);
        assertThat(c.embedDim()).isEqualTo(16);
        assertThat(c.qkvBias()).isFalse();
        assertThat(c.mlpRatio()).isEqualTo(2.0);
    }

    @Test
    void writingAndReadingBackGivesTheSameConfigWithItsLowRankBlock() {
        SwinConfig t = SwinPresets.get("swin_base_patch4_window7_224");
        LowRankSpec spec = LowRank.plan(SwinLayout.linears(t), 1.5, LowRank.SWIN_OMIT);
        SwinConfig s = t.withLowRank(spec);
        SwinConfig back = SwinConfigJson.parse(SwinConfigJson.toJsonString(s), "back.json");
        assertThat(back).isEqualTo(s);
        assertThat(back.lowrank().ranks()).containsEntry("layers.0.blocks.0.attn.qkv", 64)
                .doesNotContainKey("layers.0.blocks.0.attn.proj").doesNotContainKey("layers.0.downsample.reduction");
        SwinConfig explicit = new SwinConfig("mine", 32, 2, 1, 8, List.of(2), List.of(2), 4, 4.0, 3, true,
                List.of(0.5), List.of(0.5), null).validate("x");
        SwinConfig back2 = SwinConfigJson.parse(SwinConfigJson.toJsonString(explicit), "back2.json");
        assertThat(back2.architecture()).isEqualTo("swin"); // an unknown name is not written as a preset
        assertThat(back2.depths()).isEqualTo(explicit.depths());
    }

    @Test
    void theOneDoorTellsTheFamilies() {
        assertThat(Family.of(ConfigJson.newObject().put("architecture", "swin_tiny_patch4_window7_224")))
                .isEqualTo(Family.SWIN);
        var explicit = ConfigJson.newObject();
        explicit.putArray("depths").add(2);
        explicit.put("window_size", 7);
        assertThat(Family.of(explicit)).isEqualTo(Family.SWIN);
        var depthsOnly = ConfigJson.newObject();
        depthsOnly.putArray("depths").add(2);
        assertThat(Family.of(depthsOnly)).isEqualTo(Family.VIT);
        assertThat(Family.of(ConfigJson.newObject().put("architecture", "deit_base_patch16_224"))).isEqualTo(Family.VIT);
        assertThat(Family.of(ConfigJson.newObject().put("depth", 12))).isEqualTo(Family.VIT);
        assertThat(Family.of(ConfigJson.newObject().put("architecture", "albef_base"))).isEqualTo(Family.ALBEF);
        assertThat(Family.ofPreset("swin_base_patch4_window12_384")).isEqualTo(Family.SWIN);
        assertThat(Family.ofPreset("deit_tiny_patch16_224")).isEqualTo(Family.VIT);
        assertThatThrownBy(() -> Family.ofPreset("swin_huge")).isInstanceOf(PelaException.class)
                .hasMessageContaining("swin_base_patch4_window7_224").hasMessageContaining("deit_base_patch16_224");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            {"architecture": "swin_base_patch4_window7_224", "window_size": 5}       | window_size | not a multiple of its window 5
            {"architecture": "swin", "depths": [2, 2], "num_heads": [3]}             | depths      | same length
            {"architecture": "swin", "depths": "2,2"}                                | depths      | list of integers
            {"architecture": "swin", "depths": [2, 2.5], "num_heads": [3, 6]}        | depths[1]   | integer
            {"architecture": "swin_huge"}                                            | architecture | neither
            {"architecture": "swin", "img_size": 201}                                | img_size    | not divisible by patch_size
            {"architecture": "swin", "img_size": [224, 112]}                         | img_size    | square
            {"architecture": "swin", "num_heads": [3, 6, 12, 25]}                    | num_heads   | not divisible by 25 heads
            {"architecture": "swin", "ape": true}                                    | ape         | only false
            {"architecture": "swin", "global_pool": ""}                              | global_pool | only "avg"
            {"architecture": "swin", "qkv_bias": 1}                                  | qkv_bias    | true or false
            {"architecture": "swin", "lowrank": {"kappa": 1.5, "ranks": []}}         | lowrank.ranks | object
            {"architecture": "swin", "pretrained_cfg": {"input_size": [3, 224]}}     | pretrained_cfg.input_size | channels
            """)
    void badFieldsFailNamingTheFileAndTheField(String json, String field, String problem) {
        assertThatThrownBy(() -> SwinConfigJson.parse(json, "bad/config.json")).isInstanceOf(PelaException.class)
                .hasMessageContaining("bad/config.json").hasMessageContaining(field).hasMessageContaining(problem);
    }

    @Test
    void aViTConfigIsNotReadAsSwin() {
        assertThatThrownBy(() -> SwinConfigJson.parse("{\"architecture\": \"deit_base_patch16_224\"}", "v.json"))
                .hasMessageContaining("v.json").hasMessageContaining("architecture");
    }
}
