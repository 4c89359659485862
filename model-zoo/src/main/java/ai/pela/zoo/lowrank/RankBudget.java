package ai.pela.zoo.lowrank;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.vit.LinearSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Per-layer ranks under one parameter budget (issue 24; FLORA's per-layer ranks, found greedily): every eligible
 * Linear starts at rank 1, and each further rank step goes to the Linear whose next singular value² (or
 * activation-weighted one: the spectrum of W·S) removes the most reconstruction error per parameter spent. A step
 * of a Linear costs d_in + d_out parameters (one row of P.0 and one column of P.1). Allocation stops when the next
 * best step would exceed the budget.
 *
 * <p>Optimality: a spectrum is sorted, so each Linear's gains never grow, and the greedy takes the steps in one
 * global order of gain per parameter. What it has taken is therefore the optimum of the relaxed (fractional)
 * problem at the parameters it spent, hence the exact optimum among all allocations that spend no more; when every
 * step costs the same it is the exact optimum at the budget itself.
 */
public final class RankBudget {
    /**
     * One decomposable Linear: its shape and {@code gains[k]}, the error removed by going from rank k to k + 1
     * (σ²_{k+1}, non-increasing).
     */
    public record Layer(String name, int dIn, int dOut, double[] gains) {
        long stepCost() {
            return (long) dIn + dOut;
        }

        /** Beyond d_in·d_out / (d_in + d_out) the two factors would hold more than W itself: the rank stops there. */
        int maxRank() {
            long worthIt = (long) dIn * dOut / stepCost();
            return (int) Math.max(1, Math.min(gains.length, worthIt));
        }

        long denseParams() {
            return (long) dIn * dOut;
        }
    }

    private record Step(int layer, int toRank, double gainPerParam) {
    }

    private RankBudget() {
    }

    /** Ranks for {@code layers} whose factors hold at most {@code share} of their dense weights' parameters. */
    public static Map<String, Integer> allocate(List<Layer> layers, double share) {
        RankPolicy.Budget.checkShare(share);
        long dense = layers.stream().mapToLong(Layer::denseParams).sum();
        return allocate(layers, (long) Math.floor(share * dense));
    }

    /** Ranks for {@code layers} whose factors hold at most {@code budget} parameters, in the layers' order. */
    public static Map<String, Integer> allocate(List<Layer> layers, long budget) {
        int[] ranks = new int[layers.size()];
        long spent = 0;
        PriorityQueue<Step> next = new PriorityQueue<>(Comparator.comparingDouble(Step::gainPerParam).reversed()
                .thenComparingInt(Step::layer));
        for (int i = 0; i < layers.size(); i++) {
            ranks[i] = 1;
            spent += layers.get(i).stepCost();
            offer(next, layers, i, 2);
        }
        if (spent > budget) {
            throw new PelaException("param-budget too small: rank 1 in each of the " + layers.size()
                    + " decomposed Linears already takes " + spent + " parameters, the budget is " + budget);
        }
        while (!next.isEmpty() && spent + layers.get(next.peek().layer()).stepCost() <= budget) {
            Step s = next.poll();
            ranks[s.layer()] = s.toRank();
            spent += layers.get(s.layer()).stepCost();
            offer(next, layers, s.layer(), s.toRank() + 1);
        }
        Map<String, Integer> out = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            out.put(layers.get(i).name(), ranks[i]);
        }
        return out;
    }

    private static void offer(PriorityQueue<Step> next, List<Layer> layers, int i, int toRank) {
        Layer l = layers.get(i);
        if (toRank <= l.maxRank()) {
            next.add(new Step(i, toRank, l.gains()[toRank - 1] / l.stepCost()));
        }
    }

    /**
     * A Linear's gains: its spectrum, or with an input scale the spectrum of W·S rescaled to W's energy (Σσ² =
     * ‖W‖²_F). Unscaled, W·S's spectra are in each Linear's own output units: a Linear with small inputs (after
     * attention, after GELU) looks cheap to cut and gets starved (rank 1 for every attn.proj and mlp.fc2 of the demo
     * ViT at κ 4, 31 % top-1). Rescaled, the activations decide which directions a Linear keeps, the weights how
     * much each Linear gets.
     */
    static double[] gains(INDArray w, INDArray inputScale) {
        double[] g = LowRank.spectrum(w, inputScale);
        if (inputScale == null) {
            return g;
        }
        double weighted = java.util.Arrays.stream(g).sum();
        double plain = w.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).norm2Number().doubleValue();
        double rescale = weighted > 0 ? plain * plain / weighted : 1;
        return java.util.Arrays.stream(g).map(x -> x * rescale).toArray();
    }

    /**
     * The budget plan of a teacher: the eligible Linears (omit rules as {@link LowRank#plan}) with the spectra of
     * their weights, activation-weighted where {@code inputScales} has a Linear ({@link #gains}), else plain. The spec's
     * κ is the effective one, Σ d_in·d_out / Σ r·(d_in + d_out), so readers that show κ stay meaningful.
     */
    public static LowRankSpec plan(List<LinearSpec> linears, StateDict teacher, double share, List<String> omit,
            Map<String, INDArray> inputScales) {
        List<Layer> layers = new ArrayList<>();
        for (LinearSpec l : linears) {
            if (LowRank.isDecomposable(l, omit)) {
                INDArray w = teacher.get(l.name() + ".weight");
                if (w == null) {
                    throw new PelaException("checkpoint lacks " + l.name() + ".weight, which the budget plan needs");
                }
                layers.add(new Layer(l.name(), l.dIn(), l.dOut(), gains(w, inputScales.get(l.name()))));
            }
        }
        if (layers.isEmpty()) {
            throw new PelaException("the omit rules " + omit + " leave no Linear to decompose");
        }
        Map<String, Integer> ranks = allocate(layers, share);
        long dense = 0;
        long factors = 0;
        for (Layer l : layers) {
            dense += l.denseParams();
            factors += ranks.get(l.name()) * l.stepCost();
        }
        return new LowRankSpec((double) dense / factors, omit, ranks);
    }
}
