package ai.pela.zoo.vit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.info.ModelInfo;
import org.junit.jupiter.api.Test;

/** timm's num_classes=0: a ViT that ends with its final norm (ALBEF's image encoder). */
class VitHeadlessTest {
    private static final String JSON = "{\"img_size\": 32, \"patch_size\": 8, \"embed_dim\": 48, \"depth\": 2,"
            + " \"num_heads\": 3, \"num_classes\": 0}";

    @Test
    void aHeadlessViTHasNoHeadTensorsOrLayer() {
        ModelConfig c = ConfigJson.parse(JSON, "headless.json");
        assertThat(c.hasHead()).isFalse();
        assertThat(VitLayout.parameterShapes(c)).doesNotContainKeys("head.weight", "head.bias").containsKey("norm.weight");
        assertThat(VitLayout.linears(c)).noneMatch(l -> l.name().equals("head"));
        ModelConfig withHead = c.withNumClasses(10);
        assertThat(ModelInfo.of(withHead).params() - ModelInfo.of(c).params()).isEqualTo(48 * 10 + 10);
    }

    @Test
    void classifierUsesRefuseIt() {
        ModelConfig c = ConfigJson.parse(JSON, "headless.json");
        assertThatThrownBy(() -> VitModel.create(c, VitInit.random(c, 1), "headless.safetensors"))
                .isInstanceOf(PelaException.class).hasMessageContaining("headless.safetensors")
                .hasMessageContaining("num_classes 0");
        assertThatThrownBy(() -> ConfigJson.parse(JSON.replace("\"num_classes\": 0", "\"num_classes\": -1"), "neg.json"))
                .isInstanceOf(PelaException.class).hasMessageContaining("'num_classes'");
    }
}
