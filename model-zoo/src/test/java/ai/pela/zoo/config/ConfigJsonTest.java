package ai.pela.zoo.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigJsonTest {
    @Test
    void hubFormNamesAPresetAndCarriesPretrainedCfg() {
        String json = """
                {"architecture": "deit_small_patch16_224", "num_classes": 100, "num_features": 384,
                 "global_pool": "token",
                 "pretrained_cfg": {"tag": "fb_in1k", "input_size": [3, 224, 224], "crop_pct": 0.875,
                                    "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25], "num_classes": 1000}}""";
        ModelConfig c = ConfigJson.parse(json, "hub.json");
        assertThat(c.architecture()).isEqualTo("deit_small_patch16_224");
        assertThat(c.embedDim()).isEqualTo(384);
        assertThat(c.numHeads()).isEqualTo(6);
        assertThat(c.numClasses()).as("explicit top-level field beats pretrained_cfg").isEqualTo(100);
        assertThat(c.mean()).containsExactly(0.5, 0.5, 0.5);
        assertThat(c.std()).containsExactly(0.25, 0.25, 0.25);
    }

    @Test
    void explicitFieldsOverrideThePreset() {
        ModelConfig c = ConfigJson.parse("{\"architecture\": \"deit_tiny_patch16_224\", \"depth\": 4, \"img_size\": 32,"
                + " \"patch_size\": 4}", "x.json");
        assertThat(c.depth()).isEqualTo(4);
        assertThat(c.embedDim()).isEqualTo(192);
        assertThat(c.numTokens()).isEqualTo(65);
    }

    @Test
    void explicitFormUsesTimmDefaultsForAbsentFields() {
        ModelConfig c = ConfigJson.parse("{\"img_size\": 32, \"patch_size\": 8, \"embed_dim\": 48, \"depth\": 2,"
                + " \"num_heads\": 3, \"num_classes\": 10}", "x.json");
        assertThat(c.inChans()).isEqualTo(3);
        assertThat(c.mlpRatio()).isEqualTo(4.0);
        assertThat(c.globalPool()).isEqualTo("token");
        assertThat(c.classToken()).isTrue();
        assertThat(c.qkvBias()).isTrue();
    }

    @Test
    void roundTripKeepsEveryFieldIncludingTheLowRankBlock(@TempDir Path dir) {
        ModelConfig c = Presets.get("deit3_large_patch16_224")
                .withLowRank(new LowRankSpec(2.0, List.of("norm", "head"), Map.of("blocks.0.attn.qkv", 384)));
        Path f = dir.resolve("config.json");
        ConfigJson.write(c, f);
        assertThat(ConfigJson.read(f)).isEqualTo(c);
        ModelConfig explicit = ConfigJson.parse("{\"img_size\": 32, \"patch_size\": 8, \"embed_dim\": 48}", "e.json");
        ConfigJson.write(explicit, f);
        assertThat(ConfigJson.read(f)).isEqualTo(explicit);
    }

    @Test
    void inconsistentConfigsNameTheField() {
        assertThatThrownBy(() -> ConfigJson.parse("{\"embed_dim\": 100, \"num_heads\": 3}", "bad.json"))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("bad.json").hasMessageContaining("'embed_dim'").hasMessageContaining("num_heads 3");
        assertThatThrownBy(() -> ConfigJson.parse("{\"img_size\": 30, \"patch_size\": 16}", "bad.json"))
                .hasMessageContaining("'img_size'").hasMessageContaining("not divisible by patch_size 16");
        assertThatThrownBy(() -> ConfigJson.parse("{\"depth\": \"twelve\"}", "bad.json"))
                .hasMessageContaining("'depth'").hasMessageContaining("must be an integer");
        assertThatThrownBy(() -> ConfigJson.parse("{\"depth\": 0}", "bad.json"))
                .hasMessageContaining("'depth'").hasMessageContaining("positive");
        assertThatThrownBy(() -> ConfigJson.parse("{\"global_pool\": \"max\"}", "bad.json"))
                .hasMessageContaining("'global_pool'");
        assertThatThrownBy(() -> ConfigJson.parse("{\"class_token\": false}", "bad.json"))
                .hasMessageContaining("'global_pool'").hasMessageContaining("class_token");
        assertThatThrownBy(() -> ConfigJson.parse("{\"lowrank\": {\"kappa\": \"two\", \"ranks\": {}}}", "bad.json"))
                .hasMessageContaining("'lowrank.kappa'");
        assertThatThrownBy(() -> ConfigJson.parse("{\"lowrank\": {\"kappa\": -1, \"ranks\": {}}}", "bad.json"))
                .hasMessageContaining("'lowrank.kappa'").hasMessageContaining("> 0");
    }

    @Test
    void unknownPresetAndMalformedJsonFailClearly(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> ConfigJson.parse("{\"architecture\": \"resnet50\"}", "a.json"))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("a.json").hasMessageContaining("unknown preset 'resnet50'")
                .hasMessageContaining("deit_base_patch16_224");
        Path f = dir.resolve("broken.json");
        Files.writeString(f, "{\"depth\": 12,");
        assertThatThrownBy(() -> ConfigJson.read(f)).isInstanceOf(PelaException.class)
                .hasMessageContaining("broken.json").hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> ConfigJson.read(dir.resolve("absent.json"))).isInstanceOf(PelaException.class)
                .hasMessageContaining("absent.json").hasMessageContaining("does not exist");
        assertThatThrownBy(() -> ConfigJson.parse("[1, 2]", "arr.json")).hasMessageContaining("JSON object");
        assertThatThrownBy(() -> ConfigJson.parse("[".repeat(5000), "deep.json"))
                .isInstanceOf(PelaException.class).hasMessageContaining("deep.json");
    }
}
