package ai.pela.zoo.lowrank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.testing.Fixtures;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The greedy allocator against exhaustive enumeration on hand-made spectra. With non-increasing gains the greedy is
 * the exact optimum among allocations spending what it spent; with equal step costs, the exact optimum at the
 * budget; in general it is within the one step it could not afford of the optimum.
 */
class RankBudgetTest {
    private static final double EPS = 1e-9;

    /** Three 8×8 Linears (step 16 parameters, rank at most 4): a fast-, a slow- and a mid-decaying spectrum. */
    private static final List<RankBudget.Layer> SAME_SHAPE = List.of(
            new RankBudget.Layer("a", 8, 8, new double[] {50, 9, 2, 1, 0.5, 0.2, 0.1, 0}),
            new RankBudget.Layer("b", 8, 8, new double[] {12, 11, 10, 9, 8, 7, 6, 5}),
            new RankBudget.Layer("c", 8, 8, new double[] {30, 10, 9, 3, 1, 1, 1, 1}));

    /** Step costs 16, 25 and 24; ranks at most 3, 4 and 6. */
    private static final List<RankBudget.Layer> MIXED = List.of(
            new RankBudget.Layer("a", 6, 10, new double[] {20, 8, 7, 6, 1, 0}),
            new RankBudget.Layer("b", 5, 20, new double[] {40, 30, 12, 2, 1}),
            new RankBudget.Layer("c", 12, 12, new double[] {25, 20, 15, 10, 5, 4, 3, 2, 1, 0.5, 0.2, 0.1}));

    @Test
    void withEqualStepCostsTheGreedyIsTheOptimumAtEveryBudget() {
        for (long budget = 48; budget <= 12 * 16 + 5; budget++) {
            Map<String, Integer> ranks = RankBudget.allocate(SAME_SHAPE, budget);
            assertThat(cost(SAME_SHAPE, ranks)).isLessThanOrEqualTo(budget);
            assertThat(gain(SAME_SHAPE, ranks)).as("budget %d", budget).isCloseTo(bruteForce(SAME_SHAPE, budget), within(EPS));
        }
    }

    @Test
    void withMixedCostsTheGreedyIsOptimalForWhatItSpendsAndWithinOneStepOfTheBudgetsOptimum() {
        for (long budget = 65; budget <= 13 * 16 + 4 * 25 + 6 * 24; budget++) {
            Map<String, Integer> ranks = RankBudget.allocate(MIXED, budget);
            long spent = cost(MIXED, ranks);
            double greedy = gain(MIXED, ranks);
            assertThat(spent).isLessThanOrEqualTo(budget);
            assertThat(greedy).as("budget %d, spent %d", budget, spent).isCloseTo(bruteForce(MIXED, spent), within(EPS));
            // The relaxed optimum adds less than the blocked step's gain, at most 30 (b's second value).
            assertThat(bruteForce(MIXED, budget) - greedy).isLessThan(30.0 + EPS);
        }
    }

    @Test
    void aHandMadeSpectrumGetsItsRanksWhereTheErrorIs() {
        // Rank 1 everywhere, then six steps of 16: b's flat spectrum takes three (to its cap 4), c two, a one.
        Map<String, Integer> ranks = RankBudget.allocate(SAME_SHAPE, 48 + 6 * 16);
        assertThat(ranks).containsExactly(Map.entry("a", 2), Map.entry("b", 4), Map.entry("c", 3));
    }

    @Test
    void theRankStopsWhereTheFactorsWouldOutgrowTheDenseWeight() {
        // 3 × 100: full rank is 3, but two factors of rank 3 hold 309 > 300 parameters; rank 2 (206) is the cap.
        var thin = List.of(new RankBudget.Layer("thin", 3, 100, new double[] {9, 8, 7}));
        assertThat(RankBudget.allocate(thin, 10_000L)).containsEntry("thin", 2);
        assertThat(RankBudget.allocate(thin, 1.0)).containsEntry("thin", 2);
    }

    @Test
    void aBudgetBelowRankOneEverywhereOrOutsideZeroToOneFailsClearly() {
        assertThatThrownBy(() -> RankBudget.allocate(SAME_SHAPE, 47L)).isInstanceOf(PelaException.class)
                .hasMessageContaining("rank 1 in each of the 3 decomposed Linears already takes 48 parameters");
        assertThatThrownBy(() -> RankBudget.allocate(SAME_SHAPE, 0.0)).hasMessageContaining("param-budget")
                .hasMessageContaining("(0, 1]");
        assertThatThrownBy(() -> RankBudget.allocate(SAME_SHAPE, 1.5)).hasMessageContaining("1.5");
    }

    @Test
    void aTeachersBudgetPlanMeetsItsShareAndRecordsTheEffectiveKappa() {
        ModelConfig cfg = Fixtures.config("vit_token");
        var linears = ai.pela.zoo.vit.VitLayout.linears(cfg);
        LowRankSpec spec = LowRank.plan(linears, Fixtures.weights("vit_token"), new RankPolicy.Budget(0.5),
                LowRank.VIT_OMIT, Map.of());
        long dense = 0;
        long factors = 0;
        for (var l : linears) {
            if (spec.isDecomposed(l.name())) {
                dense += (long) l.dIn() * l.dOut();
                factors += (long) spec.rank(l.name()) * (l.dIn() + l.dOut());
            }
        }
        assertThat(spec.ranks().keySet()).isEqualTo(LowRank.plan(cfg, 2, LowRank.VIT_OMIT).ranks().keySet());
        assertThat(factors).isLessThanOrEqualTo(dense / 2).isGreaterThan(dense / 2 - 240); // within the dearest step (fc1, fc2)
        assertThat(spec.kappa()).isCloseTo((double) dense / factors, within(1e-12));
        assertThat(new java.util.HashSet<>(spec.ranks().values())).as("ranks differ per Linear").hasSizeGreaterThan(1);
    }

    @Test
    void activationWeightedGainsKeepTheWeightsEnergySoSmallInputsDoNotStarveALinear() {
        ModelConfig cfg = Fixtures.config("vit_token");
        var weights = Fixtures.weights("vit_token");
        INDArray w = weights.get("blocks.0.mlp.fc2.weight");
        INDArray scale = org.nd4j.linalg.factory.Nd4j.linspace(0.5, 2.0, w.size(1), DataType.DOUBLE);
        double[] plain = RankBudget.gains(w, null);
        double[] big = RankBudget.gains(w, scale);
        double[] small = RankBudget.gains(w, scale.mul(1e-3));
        assertThat(java.util.Arrays.stream(big).sum()).isCloseTo(java.util.Arrays.stream(plain).sum(), within(1e-9 * big[0] * big.length));
        assertThat(small).containsExactly(big, within(1e-9 * big[0]));
        assertThat(big).isNotEqualTo(plain); // the activations still shape the spectrum

        // Every Linear's inputs a thousand times smaller: the same ranks as at full size.
        var linears = ai.pela.zoo.vit.VitLayout.linears(cfg);
        Map<String, INDArray> full = new java.util.HashMap<>();
        Map<String, INDArray> tiny = new java.util.HashMap<>();
        for (var l : linears) {
            INDArray s = org.nd4j.linalg.factory.Nd4j.linspace(0.5, 2.0, l.dIn(), DataType.DOUBLE);
            full.put(l.name(), s);
            tiny.put(l.name(), l.name().endsWith("fc2") ? s.mul(1e-3) : s);
        }
        RankPolicy half = new RankPolicy.Budget(0.5);
        assertThat(LowRank.plan(linears, weights, half, LowRank.VIT_OMIT, tiny).ranks())
                .isEqualTo(LowRank.plan(linears, weights, half, LowRank.VIT_OMIT, full).ranks());
    }

    private static long cost(List<RankBudget.Layer> layers, Map<String, Integer> ranks) {
        return layers.stream().mapToLong(l -> ranks.get(l.name()) * (long) (l.dIn() + l.dOut())).sum();
    }

    private static double gain(List<RankBudget.Layer> layers, Map<String, Integer> ranks) {
        double g = 0;
        for (RankBudget.Layer l : layers) {
            g += prefix(l, ranks.get(l.name()));
        }
        return g;
    }

    private static double prefix(RankBudget.Layer l, int rank) {
        double g = 0;
        for (int k = 0; k < rank; k++) {
            g += l.gains()[k];
        }
        return g;
    }

    /** The best total gain over every rank vector (each from 1 to its cap) that costs at most {@code budget}. */
    private static double bruteForce(List<RankBudget.Layer> layers, long budget) {
        return best(layers, 0, budget);
    }

    private static double best(List<RankBudget.Layer> layers, int i, long left) {
        if (i == layers.size()) {
            return 0;
        }
        RankBudget.Layer l = layers.get(i);
        double best = Double.NEGATIVE_INFINITY;
        for (int r = 1; r <= l.maxRank(); r++) {
            long c = r * (long) (l.dIn() + l.dOut());
            if (c <= left) {
                best = Math.max(best, prefix(l, r) + best(layers, i + 1, left - c));
            }
        }
        return best;
    }
}
