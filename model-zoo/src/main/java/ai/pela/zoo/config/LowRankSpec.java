package ai.pela.zoo.config;

import java.util.List;
import java.util.Map;

/**
 * The {@code "lowrank"} block of a student's config.json: the compression ratio it was made with, the omit
 * rules, and the rank of every decomposed Linear (keyed by the Linear's name, e.g. {@code blocks.0.attn.qkv}).
 * A Linear named in {@code ranks} is built as {@code P.0} (d_in → r, no bias) followed by {@code P.1} (r → d_out).
 */
public record LowRankSpec(double kappa, List<String> omit, Map<String, Integer> ranks) implements java.io.Serializable {
    public LowRankSpec {
        omit = List.copyOf(omit);
        ranks = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(ranks));
    }

    public boolean isDecomposed(String linearName) {
        return ranks.containsKey(linearName);
    }

    public int rank(String linearName) {
        return ranks.get(linearName);
    }
}
