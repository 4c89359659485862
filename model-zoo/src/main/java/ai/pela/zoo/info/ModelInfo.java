package ai.pela.zoo.info;

import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinLayout;
import ai.pela.zoo.vit.LinearSpec;
import ai.pela.zoo.vit.VitLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Parameter and FLOP counts of a ViT or a Swin, per layer and in total. FLOPs are 2 × multiply-adds of the Linear,
 * patch-embedding and attention matmuls at batch 1 ({@code gflops}); {@code gflopsLinear} leaves out the two
 * attention matmuls (q·kᵀ and attn·v), which is the convention of the PELA paper's Table 1 (DeiT-B 33.7 → 17.0).
 */
public final class ModelInfo {
    /** One matmul layer: a Linear (dense or decomposed, {@code rank} > 0) or an attention matmul (no parameters). */
    public record Layer(String name, String kind, long params, long macs, int rank) {
        public double gflops() {
            return 2.0 * macs / 1e9;
        }
    }

    /** Totals of one model; {@code params} counts every tensor of the checkpoint. */
    public record Summary(long params, long macs, long macsLinear, List<Layer> layers) {
        public double gflops() {
            return 2.0 * macs / 1e9;
        }

        public double gflopsLinear() {
            return 2.0 * macsLinear / 1e9;
        }
    }

    private ModelInfo() {
    }

    public static Summary of(ModelConfig c) {
        LowRankSpec lr = c.lowrank();
        List<Layer> layers = new ArrayList<>();
        for (LinearSpec l : VitLayout.linears(c)) {
            layers.add(linear(l, lr));
            if (l.name().endsWith("attn.proj")) {
                String block = l.name().substring(0, l.name().length() - "proj".length());
                layers.add(attention(block + "matmul", c.numTokens(), c.numTokens(), c.embedDim()));
            }
        }
        long params = VitLayout.parameterShapes(c).values().stream().mapToLong(ModelInfo::numel).sum();
        return summary(layers, params);
    }

    /**
     * A Swin: its Linears (dense or as the config's lowrank block decomposes them) and, after each block's attn.proj,
     * the window attention's two matmuls — every token attends to the ws² tokens of its window, so q·kᵀ and attn·v
     * cost tokens × ws² × dim multiply-adds each. Patch merging's reduction is a Linear; norms, the bias-table
     * gather and the shift are not matmuls and not counted.
     */
    public static Summary of(SwinConfig c) {
        LowRankSpec lr = c.lowrank();
        List<Layer> layers = new ArrayList<>();
        for (LinearSpec l : SwinLayout.linears(c)) {
            layers.add(linear(l, lr));
            if (l.name().endsWith("attn.proj")) {
                int s = Integer.parseInt(l.name().split("\\.")[1]);
                String block = l.name().substring(0, l.name().length() - "proj".length());
                long window = (long) c.window(s) * c.window(s);
                layers.add(attention(block + "matmul", c.tokens(s), window, c.dim(s)));
            }
        }
        long params = SwinLayout.parameterShapes(c).values().stream().mapToLong(ModelInfo::numel).sum();
        return summary(layers, params);
    }

    /** q·kᵀ and attn·v of one attention: queries × keys × dim multiply-adds each, split over heads. */
    public static Layer attention(String name, long queries, long keys, long dim) {
        return new Layer(name, "attention", 0, 2 * queries * keys * dim, 0);
    }

    /** The row of one Linear: dense, or decomposed at the rank {@code lr} gives it (lr may be null). */
    public static Layer linear(LinearSpec l, LowRankSpec lr) {
        long bias = l.hasBias() ? l.dOut() : 0;
        if (lr != null && lr.isDecomposed(l.name())) {
            int r = lr.rank(l.name());
            return new Layer(l.name(), "lowrank", (long) r * (l.dIn() + l.dOut()) + bias, l.macsLowRank(r), r);
        }
        return new Layer(l.name(), l.conv() ? "conv" : "linear", (long) l.dIn() * l.dOut() + bias, l.macs(), 0);
    }

    /** Totals over {@code layers}; {@code params} is the checkpoint's tensor count, given by the caller. */
    public static Summary summary(List<Layer> layers, long params) {
        long macs = 0;
        long macsLinear = 0;
        for (Layer l : layers) {
            macs += l.macs();
            macsLinear += l.kind().equals("attention") ? 0 : l.macs();
        }
        return new Summary(params, macs, macsLinear, List.copyOf(layers));
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }
}
