package ai.pela.spark.config;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.lowrank.RankPolicy;
import java.util.List;

/**
 * {@code pela.model}: the model's config.json and weights, and the compression of its student: how its ranks are
 * chosen and how its factors start (issue 24).
 *
 * @param explicitOmit the recipe's {@code model.omit} list, or null for {@code "family"}: each family's own rule
 *                     (ALBEF has {@link AlbefSettings#omit})
 * @param ranks uniform (PELA's κ for every Linear) or budget ({@code paramBudget} of the decomposable parameters)
 * @param paramBudget the student's share of the decomposable Linears' parameters under the budget policy
 * @param svdInit plain, or activation-aware (SVD of W·S from {@code calibrationImages} training images)
 */
public record ModelSettings(String config, String weights, double kappa, List<String> explicitOmit, Ranks ranks,
        double paramBudget, SvdInit svdInit, int calibrationImages) {
    /** The value of {@code model.omit} that stands for the family's own rule. */
    public static final String FAMILY_OMIT = "family";

    /** {@code model.rank-policy}. */
    public enum Ranks {
        UNIFORM, BUDGET;

        /** This policy with its number: {@code kappa} for uniform, {@code share} of the parameters for budget. */
        public RankPolicy with(double kappa, double share) {
            return this == BUDGET ? new RankPolicy.Budget(share) : new RankPolicy.Uniform(kappa);
        }
    }

    /** {@code model.svd-init}. */
    public enum SvdInit { PLAIN, ACTIVATION_AWARE }

    public ModelSettings {
        explicitOmit = explicitOmit == null ? null : List.copyOf(explicitOmit);
    }

    public static ModelSettings from(Recipe r) {
        return new ModelSettings(r.string("model.config"), r.string("model.weights"), r.number("model.kappa"),
                r.stringsOr("model.omit", FAMILY_OMIT), r.choice("model.rank-policy", Ranks.class),
                r.number("model.param-budget"), r.choice("model.svd-init", SvdInit.class),
                r.integer("model.calibration-images"));
    }

    /** The omit list of a ViT student: the recipe's, or the ViT family's. */
    public List<String> omit() {
        return omitOr(LowRank.VIT_OMIT);
    }

    /** The recipe's omit list, or {@code familyDefault} where it says "family". */
    public List<String> omitOr(List<String> familyDefault) {
        return explicitOmit != null ? explicitOmit : familyDefault;
    }

    /** The rank policy, checked where it is used (so evaluate never trips over a pretrain-only setting). */
    public RankPolicy rankPolicy() {
        try {
            return ranks.with(kappa, paramBudget);
        } catch (PelaException e) {
            throw new PelaException("configuration key 'pela.model." + (ranks == Ranks.BUDGET ? "param-budget" : "kappa")
                    + "': " + e.getMessage(), e);
        }
    }

    /** Whether the factors start from activation-aware SVD; checks the calibration size then. */
    public boolean activationAware() {
        if (svdInit == SvdInit.ACTIVATION_AWARE && calibrationImages < 1) {
            throw new PelaException("configuration key 'pela.model.calibration-images' must be a positive integer, got "
                    + calibrationImages);
        }
        return svdInit == SvdInit.ACTIVATION_AWARE;
    }
}
