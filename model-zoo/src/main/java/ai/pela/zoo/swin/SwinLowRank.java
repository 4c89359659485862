package ai.pela.zoo.swin;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.lowrank.LowRank;
import java.util.List;

/**
 * PELA's low-rank surgery on a Swin through the shared {@link LowRank} machinery. The released Swin code keeps
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
        if (teacherConfig.lowrank() != null) {
            throw new PelaException("the model is already low-rank (its config has a lowrank block); compress a dense teacher");
        }
        LowRankSpec spec = plan(teacherConfig, kappa, omit);
        return new Student(teacherConfig.withLowRank(spec), LowRank.decompose(teacher, spec));
    }
}
