package ai.pela.zoo.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * AdamW exactly as {@code torch.optim.AdamW} computes it (decoupled weight decay applied before the Adam step,
 * bias-corrected moments), on named parameter arrays updated in place. Weight decay is skipped, as in timm, for
 * 1-D parameters (norms, biases, LayerScale), for {@code cls_token} / {@code pos_embed} and for Swin's
 * {@code relative_position_bias_table} (the official Swin code's skip keyword).
 *
 * <p>Hand-written rather than SameDiff's updater because the distributed trainer averages the moments across
 * workers: the state must be exported to and imported from flat arrays.
 */
public final class AdamW {
    /** Hyper-parameters; the learning rate comes from the schedule each step. */
    public record Config(double beta1, double beta2, double eps, double weightDecay) implements java.io.Serializable {
        public static Config defaults(double weightDecay) {
            return new Config(0.9, 0.999, 1e-8, weightDecay);
        }
    }

    private static final Set<String> NO_DECAY_NAMES = Set.of("cls_token", "pos_embed", "relative_position_bias_table");

    private final Config config;
    private final Map<String, INDArray> m = new LinkedHashMap<>();
    private final Map<String, INDArray> v = new LinkedHashMap<>();
    private final FlatState flat;
    private long step;

    /** The flat form's vectors: both moments, 1 where weight decay applies, and one scratch vector. */
    private record FlatState(INDArray m, INDArray v, INDArray decayMask, INDArray scratch) {
    }

    public AdamW(Config config, Map<String, INDArray> params) {
        this.config = config;
        this.flat = null;
        params.forEach((k, p) -> {
            m.put(k, Nd4j.zeros(p.dataType(), p.shape()));
            v.put(k, Nd4j.zeros(p.dataType(), p.shape()));
        });
    }

    /**
     * AdamW over parameters that are consecutive views of one flat vector ({@code params} in that vector's order):
     * the moments are flat vectors too (the per-parameter maps are views of them, so export and import are
     * unchanged), and {@link #updateFlat} is a dozen in-place passes over four vectors with no allocation.
     */
    public static AdamW flat(Config config, Map<String, INDArray> params) {
        return new AdamW(config, params.values().stream().mapToLong(INDArray::length).sum(), params);
    }

    private AdamW(Config config, long n, Map<String, INDArray> params) {
        this.config = config;
        this.flat = new FlatState(Nd4j.zeros(DataType.FLOAT, n), Nd4j.zeros(DataType.FLOAT, n), Nd4j.zeros(DataType.FLOAT, n),
                Nd4j.zeros(DataType.FLOAT, n));
        long off = 0;
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            INDArray p = e.getValue();
            long len = p.length();
            m.put(e.getKey(), flat.m.get(NDArrayIndex.interval(off, off + len)).reshape('c', p.shape()));
            v.put(e.getKey(), flat.v.get(NDArrayIndex.interval(off, off + len)).reshape('c', p.shape()));
            if (decays(e.getKey(), p)) {
                flat.decayMask.get(NDArrayIndex.interval(off, off + len)).assign(1);
            }
            off += len;
        }
    }

    /**
     * One update of the flat parameter vector {@code p} with the flat gradient {@code g} (same order as the maps
     * this optimiser was made with) at learning rate {@code lr}, as torch's AdamW computes it.
     */
    public void updateFlat(INDArray p, INDArray g, double lr) {
        if (flat == null) {
            throw new IllegalStateException("updateFlat needs an optimiser made by AdamW.flat");
        }
        step++;
        double b1 = config.beta1();
        double b2 = config.beta2();
        double bias1 = 1 - Math.pow(b1, step);
        double bias2Sqrt = Math.sqrt(1 - Math.pow(b2, step));
        INDArray s = flat.scratch;
        if (config.weightDecay() != 0) {
            p.muli(s.assign(flat.decayMask).muli(-lr * config.weightDecay()).addi(1));
        }
        flat.m.muli(b1).addi(s.assign(g).muli(1 - b1));
        flat.v.muli(b2).addi(s.assign(g).muli(g).muli(1 - b2));
        Transforms.sqrt(s.assign(flat.v), false).divi(bias2Sqrt).addi(config.eps());
        p.subi(s.rdivi(flat.m).muli(lr / bias1));
    }

    /** Whether weight decay applies; a prefixed name (a dense model's {@code backbone.pos_embed}) counts by its last part. */
    public static boolean decays(String name, INDArray param) {
        return param.rank() > 1 && !NO_DECAY_NAMES.contains(name.substring(name.lastIndexOf('.') + 1));
    }

    /** One update of every parameter with its gradient at learning rate {@code lr}. */
    public void update(Map<String, INDArray> params, Map<String, INDArray> grads, double lr) {
        update(params, grads, lr, name -> 1.0);
    }

    /**
     * One update with a learning rate of {@code lr · scale(name)} per parameter (timm / mmcv's per-group
     * {@code lr_mult}: a pretrained backbone under a new head fine-tunes at a fraction of the head's rate); weight
     * decay scales with it, as it does in torch's per-group AdamW.
     */
    public void update(Map<String, INDArray> params, Map<String, INDArray> grads, double baseLr,
            java.util.function.ToDoubleFunction<String> scale) {
        step++;
        double b1 = config.beta1();
        double b2 = config.beta2();
        double bias1 = 1 - Math.pow(b1, step);
        double bias2Sqrt = Math.sqrt(1 - Math.pow(b2, step));
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            String name = e.getKey();
            INDArray p = e.getValue();
            double lr = baseLr * scale.applyAsDouble(name);
            INDArray g = grads.get(name);
            if (g == null) {
                throw new IllegalStateException("no gradient for parameter " + name);
            }
            if (decays(name, p) && config.weightDecay() != 0) {
                p.muli(1 - lr * config.weightDecay());
            }
            // Temporaries are closed at once: their memory is off-heap and the GC would free it late.
            INDArray mi = m.get(name);
            INDArray vi = v.get(name);
            try (INDArray gm = g.mul(1 - b1); INDArray g2 = g.mul(g)) {
                mi.muli(b1).addi(gm);
                vi.muli(b2).addi(g2.muli(1 - b2));
            }
            try (INDArray denom = Transforms.sqrt(vi, true)) {
                denom.divi(bias2Sqrt).addi(config.eps());
                try (INDArray update = mi.div(denom)) {
                    p.subi(update.muli(lr / bias1));
                }
            }
        }
    }

    /**
     * Scales all gradients so their global L2 norm is at most {@code maxNorm}, as
     * {@code torch.nn.utils.clip_grad_norm_} does (coefficient maxNorm / (norm + 1e-6), capped at 1).
     *
     * @return the norm before clipping
     */
    public static double clipGradNorm(Map<String, INDArray> grads, double maxNorm) {
        double sumSq = 0;
        for (INDArray g : grads.values()) {
            double n = g.norm2Number().doubleValue();
            sumSq += n * n;
        }
        double norm = Math.sqrt(sumSq);
        if (maxNorm > 0) {
            double coef = maxNorm / (norm + 1e-6);
            if (coef < 1) {
                grads.values().forEach(g -> g.muli(coef));
            }
        }
        return norm;
    }

    public long step() {
        return step;
    }

    public Map<String, INDArray> firstMoments() {
        return m;
    }

    public Map<String, INDArray> secondMoments() {
        return v;
    }

    /** The state as flat arrays in {@code order}: [m, v] each the concatenation of all parameters' moments. */
    public OptimizerState exportState(List<String> order) {
        return new OptimizerState(step, Flat.flatten(m, order), Flat.flatten(v, order));
    }

    public void importState(OptimizerState state, List<String> order) {
        Flat.unflattenInto(state.m(), m, order);
        Flat.unflattenInto(state.v(), v, order);
        step = state.step();
    }
}
