package ai.pela.spark.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.zoo.config.LowRankSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FingerprintTest {
    private static LowRankSpec ranks(int qkv, int fc1) {
        Map<String, Integer> r = new LinkedHashMap<>();
        r.put("layers.0.blocks.0.attn.qkv", qkv);
        r.put("layers.0.blocks.0.mlp.fc1", fc1);
        return new LowRankSpec(2.0, List.of("norm"), r);
    }

    /** Ranks 4 and 6 against 5 and 5: equal hashCodes (a map's is Σ key ^ value), which once shared a cached trainer. */
    @Test
    void studentsWhoseRanksDifferGetDifferentKeysWhereTheirHashCodesCollide() {
        LowRankSpec budget = ranks(4, 6);
        LowRankSpec uniform = ranks(5, 5);
        assertThat(budget.hashCode()).isEqualTo(uniform.hashCode());
        assertThat(Fingerprint.of(budget)).isNotEqualTo(Fingerprint.of(uniform)).hasSize(16);
        assertThat(Fingerprint.of(budget)).isEqualTo(Fingerprint.of(ranks(4, 6)));
    }

    @Test
    void partsAreSeparated() {
        assertThat(Fingerprint.of("ab", "c")).isNotEqualTo(Fingerprint.of("a", "bc"));
        assertThat(Fingerprint.of(null, "x")).isNotEqualTo(Fingerprint.of("x", null));
    }
}
