package ai.pela.zoo.info;

import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.vit.LinearSpec;
import ai.pela.zoo.vit.VitLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Parameter and FLOP counts of a ViT, per layer and in total. FLOPs are 2 × multiply-adds of the Linear,
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
        long macsLinear = 0;
        long macsAttention = 0;
        for (LinearSpec l : VitLayout.linears(c)) {
            long bias = l.hasBias() ? l.dOut() : 0;
            Layer layer;
            if (lr != null && lr.isDecomposed(l.name())) {
                int r = lr.rank(l.name());
                layer = new Layer(l.name(), "lowrank", (long) r * (l.dIn() + l.dOut()) + bias, l.macsLowRank(r), r);
            } else {
                layer = new Layer(l.name(), l.conv() ? "conv" : "linear", (long) l.dIn() * l.dOut() + bias, l.macs(), 0);
            }
            layers.add(layer);
            macsLinear += layer.macs();
            if (l.name().endsWith("attn.proj")) {
                // q·kᵀ and attn·v: T×T×D multiply-adds each, split over heads.
                long t = c.numTokens();
                long m = 2 * t * t * c.embedDim();
                String block = l.name().substring(0, l.name().length() - "proj".length());
                layers.add(new Layer(block + "matmul", "attention", 0, m, 0));
                macsAttention += m;
            }
        }
        long params = VitLayout.parameterShapes(c).values().stream().mapToLong(ModelInfo::numel).sum();
        return new Summary(params, macsLinear + macsAttention, macsLinear, layers);
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }
}
