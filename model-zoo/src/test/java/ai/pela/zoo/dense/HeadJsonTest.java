package ai.pela.zoo.dense;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import java.util.List;
import org.junit.jupiter.api.Test;

/** head.json: round trip, every field checked, defaults sized from the backbone, and the initial checkpoint. */
class HeadJsonTest {
    private static final ModelConfig VIT = ConfigJson.parse("{\"img_size\": 28, \"patch_size\": 7, \"embed_dim\": 64,"
            + " \"depth\": 4, \"num_heads\": 4, \"mlp_ratio\": 2.0, \"num_classes\": 10}", "vit");

    @Test
    void defaultsRoundTripThroughJson() {
        HeadConfig u = UperNetConfig.defaults(VIT, 56, 10);
        HeadConfig f = FcosConfig.defaults(VIT, 56, List.of(1, 3, 7));
        assertThat(HeadJson.parse(HeadJson.toJsonString(u), "u")).isEqualTo(u);
        assertThat(HeadJson.parse(HeadJson.toJsonString(f), "f")).isEqualTo(f);
        assertThat(u.outIndices()).containsExactly(0, 1, 2, 3);
        assertThat(((UperNetConfig) u).gnGroups()).isEqualTo(32);
    }

    @Test
    void unknownMissingAndInconsistentFieldsFailNamingThem() {
        String ok = HeadJson.toJsonString(UperNetConfig.defaults(VIT, 56, 10));
        assertThatThrownBy(() -> HeadJson.parse(ok.replace("\"channels\"", "\"chanels\""), "h.json"))
                .isInstanceOf(PelaException.class).hasMessageContaining("h.json").hasMessageContaining("chanels");
        assertThatThrownBy(() -> HeadJson.parse(ok.replace("\"gn_groups\" : 32", "\"gn_groups\" : 3"), "h.json"))
                .hasMessageContaining("'gn_groups'").hasMessageContaining("does not divide channels 64");
        assertThatThrownBy(() -> HeadJson.parse(ok.replace("\"upernet\"", "\"maskrcnn\""), "h.json"))
                .hasMessageContaining("'type'");
        assertThatThrownBy(() -> HeadJson.parse("{\"type\": \"fcos\"}", "d.json"))
                .hasMessageContaining("d.json: field 'sfp_scales' is missing");
        HeadConfig deep = HeadJson.parse(ok.replace("[ 0, 1, 2, 3 ]", "[ 0, 1, 2, 7 ]"), "h.json");
        assertThatThrownBy(() -> deep.checkBackbone(VIT, "h.json"))
                .hasMessageContaining("'out_indices' has block 7 but the backbone has 4 blocks");
        HeadConfig odd = HeadJson.parse(ok.replace("\"img_size\" : 56", "\"img_size\" : 60"), "h.json");
        assertThatThrownBy(() -> odd.checkBackbone(VIT, "h.json")).hasMessageContaining("not a multiple of");
    }

    @Test
    void initialCheckpointHasEveryKeyHeadBiasAtThePriorAndIsSeeded() {
        StateDict vit = ai.pela.zoo.vit.VitInit.random(VIT, 3);
        FcosConfig f = new FcosConfig(56, 3, List.of(2.0, 1.0, 0.5), 16, 1, 10, 4,
                List.of(List.of(-1.0, 28.0), List.of(28.0, 56.0), List.of(56.0, 1e8)), 1.5, 0.25, 2.0, 0.05, 100,
                0.5, 20, List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
        StateDict a = DenseInit.initial(VIT, vit, f, 5, "vit");
        StateDict b = DenseInit.initial(VIT, vit, f, 5, "vit");
        a.checkMatches("a", DenseModel.parameterShapes(VIT, f));
        assertThat(a.get("bbox_head.conv_cls.bias").getDouble(0)).isEqualTo(-Math.log(99), org.assertj.core.api.Assertions.within(1e-6));
        assertThat(a.get("neck.simfp_3.1.weight").equalsWithEps(b.get("neck.simfp_3.1.weight"), 0)).isTrue();
        assertThat(a.get("backbone.pos_embed").shape()).containsExactly(1, 65, 64);
        assertThat(a.contains("backbone.norm.weight")).isFalse();
    }
}
