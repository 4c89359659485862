package ai.pela.zoo.swin;

import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.lowrank.RankPolicy;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * PELA's low-rank surgery on a Swin through the shared {@link LowRank} machinery (uniform κ or a parameter budget,
 * plain or activation-aware SVD). The released Swin code keeps
 * {@code attn.proj} dense besides norms, head, patch embedding and patch merging ({@link LowRank#SWIN_OMIT}, the
 * family's default); a recipe's {@code model.omit} replaces that list.
 */
public final class SwinLowRank {
    /** A compressed Swin: the student's config (with its lowrank block) and its checkpoint. */
    public record Student(SwinConfig config, StateDict weights) {
    }

    private SwinLowRank() {
    }

    public static LowRankSpec plan(SwinConfig config, double kappa, List<String> omit) {
        return LowRank.plan(SwinLayout.linears(config), kappa, omit);
    }

    public static Student compress(SwinConfig teacherConfig, StateDict teacher, double kappa, List<String> omit) {
        return compress(teacherConfig, teacher, new RankPolicy.Uniform(kappa), omit, Map.of());
    }

    /**
     * Compresses a dense Swin under {@code policy} (one κ, or a parameter budget spread over the eligible Linears by
     * their spectra); activation-aware where {@code inputScales} has a Linear (from {@code Swin.observeLinearInputs}).
     */
    public static Student compress(SwinConfig teacherConfig, StateDict teacher, RankPolicy policy, List<String> omit,
            Map<String, INDArray> inputScales) {
        LowRank.Surgery s = LowRank.surgery(teacherConfig.lowrank(), SwinLayout.linears(teacherConfig), teacher, policy,
                omit, inputScales);
        return new Student(teacherConfig.withLowRank(s.spec()), s.weights());
    }
}
