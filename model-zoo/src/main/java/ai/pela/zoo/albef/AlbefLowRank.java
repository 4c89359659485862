package ai.pela.zoo.albef;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.lowrank.RankPolicy;
import java.util.List;
import java.util.Map;

/**
 * PELA's low-rank surgery on ALBEF through the shared {@link LowRank} machinery: every Linear whose name has none
 * of the omit strings (released: {@code cls}, {@code _proj}) and whose d_out ≥ 10 is decomposed. So the MLM head
 * and the contrastive projections stay dense, the ITM head (d_out 2) too, the embeddings are never touched (they
 * are lookups, not Linears), and cross-attention keys and values (768 image channels in) are decomposed.
 */
public final class AlbefLowRank {
    /** A compressed ALBEF: the student's config (with its lowrank block) and its checkpoint. */
    public record Student(AlbefConfig config, StateDict weights) {
    }

    private AlbefLowRank() {
    }

    public static LowRankSpec plan(AlbefConfig config, double kappa, List<String> omit) {
        // token counts only weigh FLOPs; the plan depends on names and shapes alone
        return LowRank.plan(AlbefLayout.linears(config, 1), kappa, omit);
    }

    public static Student compress(AlbefConfig teacherConfig, StateDict teacher, double kappa, List<String> omit) {
        return compress(teacherConfig, teacher, new RankPolicy.Uniform(kappa), omit);
    }

    /**
     * Under a rank policy (a budget spreads the ranks by the plain spectra: activation-aware SVD needs input
     * statistics, which ALBEF's SameDiff graph has no hook for yet).
     */
    public static Student compress(AlbefConfig teacherConfig, StateDict teacher, RankPolicy policy, List<String> omit) {
        if (teacherConfig.lowrank() != null) {
            throw new PelaException("the model is already low-rank (its config has a lowrank block); compress a dense teacher");
        }
        LowRankSpec spec = LowRank.plan(AlbefLayout.linears(teacherConfig, 1), teacher, policy, omit, Map.of());
        return new Student(teacherConfig.withLowRank(spec), LowRank.decompose(teacher, spec));
    }
}
