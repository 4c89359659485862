package ai.pela.zoo.lowrank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.config.Presets;
import java.util.List;
import org.junit.jupiter.api.Test;

class LowRankPlanTest {
    @Test
    void rankRuleGivesThePapersDeitBaseRanks() {
        LowRankSpec s = LowRank.plan(Presets.get("deit_base_patch16_224"), 2, LowRank.VIT_OMIT);
        assertThat(s.rank("blocks.0.attn.qkv")).isEqualTo(288);
        assertThat(s.rank("blocks.0.attn.proj")).isEqualTo(192);
        assertThat(s.rank("blocks.11.mlp.fc1")).isEqualTo(307);
        assertThat(s.rank("blocks.11.mlp.fc2")).isEqualTo(307);
        assertThat(s.ranks()).hasSize(48).doesNotContainKeys("head", "patch_embed.proj");
    }

    @Test
    void rankIsClampedToOneAndToFullRank() {
        assertThat(LowRank.rank(768, 768, 1000)).isEqualTo(1);
        assertThat(LowRank.rank(768, 3072, 0.1)).isEqualTo(768);
        assertThat(LowRank.rank(48, 144, 2)).isEqualTo(18);
    }

    @Test
    void omitRulesAndSmallOutputsAreRespected() {
        var cfg = Presets.get("deit_tiny_patch16_224").withNumClasses(1000);
        LowRankSpec s = LowRank.plan(cfg, 2, List.of("mlp", "head"));
        assertThat(s.ranks().keySet()).allMatch(k -> k.contains("attn"));
        // A head with fewer than 10 outputs is never decomposed, even when not omitted.
        LowRankSpec small = LowRank.plan(cfg.withNumClasses(5), 2, List.of());
        assertThat(small.ranks()).doesNotContainKey("head");
        assertThat(LowRank.plan(cfg.withNumClasses(10), 2, List.of()).ranks()).containsKey("head");
    }

    @Test
    void nonPositiveKappaFailsClearly() {
        var cfg = Presets.get("deit_tiny_patch16_224");
        assertThatThrownBy(() -> LowRank.plan(cfg, 0, LowRank.VIT_OMIT)).isInstanceOf(PelaException.class)
                .hasMessageContaining("kappa must be a positive number, got 0.0");
        assertThatThrownBy(() -> LowRank.plan(cfg, -2, LowRank.VIT_OMIT)).hasMessageContaining("-2.0");
        assertThatThrownBy(() -> LowRank.plan(cfg, Double.NaN, LowRank.VIT_OMIT)).hasMessageContaining("NaN");
    }
}
