package ai.pela.spark.config;

import ai.pela.zoo.lowrank.LowRank;
import java.util.List;

/**
 * {@code pela.model}: the model's config.json and weights, and the compression of its student.
 *
 * @param explicitOmit the recipe's {@code model.omit} list, or null for {@code "family"}: each family's own rule
 *                     (ALBEF has {@link AlbefSettings#omit})
 */
public record ModelSettings(String config, String weights, double kappa, List<String> explicitOmit) {
    /** The value of {@code model.omit} that stands for the family's own rule. */
    public static final String FAMILY_OMIT = "family";

    public ModelSettings {
        explicitOmit = explicitOmit == null ? null : List.copyOf(explicitOmit);
    }

    public static ModelSettings from(Recipe r) {
        return new ModelSettings(r.string("model.config"), r.string("model.weights"), r.number("model.kappa"),
                r.stringsOr("model.omit", FAMILY_OMIT));
    }

    /** The omit list of a ViT student: the recipe's, or the ViT family's. */
    public List<String> omit() {
        return omitOr(LowRank.VIT_OMIT);
    }

    /** The recipe's omit list, or {@code familyDefault} where it says "family". */
    public List<String> omitOr(List<String> familyDefault) {
        return explicitOmit != null ? explicitOmit : familyDefault;
    }
}
