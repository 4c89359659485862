package ai.pela.spark.config;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.lowrank.RankPolicy;
import java.util.List;

/**
 * {@code pela.model}: the model's config.json and weights, and the student's compression: how its ranks are chosen
 * and how its factors start (issue 24).
 *
 * @param omit Linears whose names contain any of these stay dense (ViT family; ALBEF has {@link AlbefSettings#omit})
 * @param ranks uniform (PELA's κ for every Linear) or budget ({@code paramBudget} of the decomposable parameters)
 * @param paramBudget the student's share of the decomposable Linears' parameters under the budget policy
 * @param svdInit plain, or activation-aware (SVD of W·S from {@code calibrationImages} training images)
 */
public record ModelSettings(String config, String weights, double kappa, List<String> omit, Ranks ranks,
        double paramBudget, SvdInit svdInit, int calibrationImages) {
    /** {@code model.rank-policy}. */
    public enum Ranks { UNIFORM, BUDGET }

    /** {@code model.svd-init}. */
    public enum SvdInit { PLAIN, ACTIVATION_AWARE }

    public ModelSettings {
        omit = List.copyOf(omit);
    }

    public static ModelSettings from(Recipe r) {
        return new ModelSettings(r.string("model.config"), r.string("model.weights"), r.number("model.kappa"),
                r.strings("model.omit"), r.choice("model.rank-policy", Ranks.class), r.number("model.param-budget"),
                r.choice("model.svd-init", SvdInit.class), r.integer("model.calibration-images"));
    }

    /** The rank policy, checked where it is used (so evaluate never trips over a pretrain-only setting). */
    public RankPolicy rankPolicy() {
        try {
            return ranks == Ranks.BUDGET ? new RankPolicy.Budget(paramBudget) : new RankPolicy.Uniform(kappa);
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
