package ai.pela.spark.config;

import ai.pela.zoo.albef.AlbefPelaStep;
import java.util.List;

/** {@code pela.albef}: captions, MLM masking, ITM negatives and the ALBEF omit rule. */
public record AlbefSettings(int maxWords, int textTokens, double maskProb, AlbefPelaStep.Negatives negatives,
        List<String> omit) {
    public AlbefSettings {
        omit = List.copyOf(omit);
    }

    public static AlbefSettings from(Recipe r) {
        return new AlbefSettings(r.positive("albef.max-words"), r.integer("albef.text-tokens"),
                r.number("albef.mask-prob"), r.choice("albef.negatives", AlbefPelaStep.Negatives.class),
                r.strings("albef.omit"));
    }

    /** The MLM probability, checked to be in (0, 1]. */
    public double checkedMaskProb() {
        if (!(maskProb > 0 && maskProb <= 1)) {
            throw Checks.invalid("albef.mask-prob", "must be in (0, 1], got " + maskProb);
        }
        return maskProb;
    }

    /** The caption length in tokens, checked against the model's position table. */
    public int checkedTextTokens(int maxPositions, String configFile) {
        if (textTokens < 3 || textTokens > maxPositions) {
            throw Checks.invalid("albef.text-tokens", "must be in [3, " + maxPositions
                    + "] (max_position_embeddings of " + configFile + "), got " + textTokens);
        }
        return textTokens;
    }
}
