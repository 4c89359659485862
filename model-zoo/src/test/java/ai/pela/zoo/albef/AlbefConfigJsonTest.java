package ai.pela.zoo.albef;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ConfigJson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AlbefConfigJsonTest {
    /** ALBEF's configs/config_bert.json as released, unused keys and all. */
    private static final String ALBEF_CONFIG_BERT = """
            {"architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu",
             "hidden_dropout_prob": 0.1, "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072,
             "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert", "num_attention_heads": 12,
             "num_hidden_layers": 12, "pad_token_id": 0, "type_vocab_size": 2, "vocab_size": 30522,
             "fusion_layer": 6, "encoder_width": 768}""";

    @Test
    void albefsOwnBertConfigGivesTheBasePreset() {
        AlbefConfig c = AlbefConfigJson.parse("{\"architecture\": \"albef_base\", \"bert_config\": " + ALBEF_CONFIG_BERT
                + "}", "c.json");
        assertThat(c).isEqualTo(AlbefPresets.get("albef_base"));
    }

    @Test
    void fixtureConfigIsReadFieldByField() {
        AlbefConfig c = AlbefFixtures.config();
        assertThat(c.architecture()).isEqualTo("albef");
        assertThat(c.vision().embedDim()).isEqualTo(32);
        assertThat(c.vision().numTokens()).isEqualTo(17);
        assertThat(c.vision().hasHead()).isFalse();
        assertThat(c.vision().mean()).isEqualTo(AlbefPresets.MEAN);
        assertThat(c.text()).isEqualTo(new BertConfig(120, 32, 4, 4, 128, 16, 2, 1e-12, 0, 2, 32));
        assertThat(c.embedDim()).isEqualTo(16);
        assertThat(c.lowrank()).isNull();
    }

    @Test
    void studentConfigRoundTripsWithItsLowRankBlock() {
        AlbefConfig s = AlbefFixtures.studentConfig();
        assertThat(s.lowrank().ranks()).hasSize(40).containsEntry("visual_encoder.blocks.0.attn.qkv", 8);
        AlbefConfig back = AlbefConfigJson.parse(ConfigJson.toJsonString(AlbefConfigJson.toJson(s)), "back.json");
        assertThat(back).isEqualTo(s);
        assertThat(back.visionConfig().lowrank().ranks()).containsEntry("blocks.0.attn.qkv", 8).hasSize(8);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"bert_config\": {\"hidden_act\": \"gelu_new\"}}|'bert_config.hidden_act'",
        "{\"bert_config\": {\"encoder_width\": 512}}|'bert_config.encoder_width'",
        "{\"bert_config\": {\"fusion_layer\": 13}}|'bert_config.fusion_layer'",
        "{\"bert_config\": {\"hidden_size\": 100}}|'bert_config.hidden_size'",
        "{\"vision\": {\"num_classes\": 1000}}|'vision.num_classes'",
        "{\"vision\": {\"depth\": \"twelve\"}}|'depth'",
        "{\"architecture\": \"deit_base_patch16_224\"}|'architecture'",
        "{\"temp\": 0.9}|'temp'",
        "{\"embed_dim\": 0}|'embed_dim'"})
    void badFieldsFailNamingTheFileAndField(String json, String field) {
        assertThatThrownBy(() -> AlbefConfigJson.parse(json, "bad.json"))
                .isInstanceOf(PelaException.class)
                .hasMessageStartingWith("bad.json")
                .hasMessageContaining(field);
    }

    @Test
    void albefConfigsAreToldApartFromViTConfigs() {
        assertThat(AlbefConfigJson.isAlbef(ConfigJson.readObject(ai.pela.zoo.testing.Fixtures.path("albef/config.json"))))
                .isTrue();
        assertThat(AlbefConfigJson.isAlbef(ConfigJson.readObject(ai.pela.zoo.testing.Fixtures.path("vit_token/config.json"))))
                .isFalse();
    }
}
