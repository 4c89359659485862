package ai.pela.zoo.swin;

import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.vit.LinearSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The checkpoint layout of a Swin Transformer in the official code's keys (microsoft/Swin-Transformer, the layout
 * PELA's Swin code loads): which Linears it has and every trained tensor with its shape, in the official order.
 * Buffers ({@code attn.relative_position_index}, {@code attn_mask}) are not parameters: the model computes them.
 * A low-rank student replaces {@code P.weight/P.bias} of each decomposed Linear P by {@code P.0.weight [r, d_in]},
 * {@code P.1.weight [d_out, r]}, {@code P.1.bias [d_out]}, as in the ViT family.
 */
public final class SwinLayout {
    private SwinLayout() {
    }

    public static String blockPrefix(int stage, int block) {
        return "layers." + stage + ".blocks." + block + ".";
    }

    public static String downsamplePrefix(int stage) {
        return "layers." + stage + ".downsample.";
    }

    /** Rows of block (s, j)'s relative position bias table: (2·window − 1)². */
    public static int biasTableRows(SwinConfig c, int s) {
        int w = c.window(s);
        return (2 * w - 1) * (2 * w - 1);
    }

    /** Every dense Linear of the model in forward order, with the number of tokens it sees at batch 1. */
    public static List<LinearSpec> linears(SwinConfig c) {
        List<LinearSpec> out = new ArrayList<>();
        out.add(new LinearSpec("patch_embed.proj", c.inChans() * c.patchSize() * c.patchSize(), c.embedDim(), true,
                c.tokens(0), true));
        for (int s = 0; s < c.numStages(); s++) {
            int d = c.dim(s);
            int t = c.tokens(s);
            for (int j = 0; j < c.depths().get(s); j++) {
                String b = blockPrefix(s, j);
                out.add(new LinearSpec(b + "attn.qkv", d, 3 * d, c.qkvBias(), t, false));
                out.add(new LinearSpec(b + "attn.proj", d, d, true, t, false));
                out.add(new LinearSpec(b + "mlp.fc1", d, c.mlpHiddenDim(s), true, t, false));
                out.add(new LinearSpec(b + "mlp.fc2", c.mlpHiddenDim(s), d, true, t, false));
            }
            if (s < c.numStages() - 1) {
                out.add(new LinearSpec(downsamplePrefix(s) + "reduction", 4 * d, 2 * d, false, c.tokens(s + 1), false));
            }
        }
        if (c.hasHead()) {
            out.add(new LinearSpec("head", c.numFeatures(), c.numClasses(), true, 1, false));
        }
        return out;
    }

    /** State-dict key → shape of every trained tensor of the model built from {@code c}, in the official order. */
    public static Map<String, long[]> parameterShapes(SwinConfig c) {
        Map<String, long[]> p = new LinkedHashMap<>();
        int e = c.embedDim();
        p.put("patch_embed.proj.weight", new long[] {e, c.inChans(), c.patchSize(), c.patchSize()});
        p.put("patch_embed.proj.bias", new long[] {e});
        norm(p, "patch_embed.norm", e);
        for (int s = 0; s < c.numStages(); s++) {
            int d = c.dim(s);
            for (int j = 0; j < c.depths().get(s); j++) {
                String b = blockPrefix(s, j);
                norm(p, b + "norm1", d);
                p.put(b + "attn.relative_position_bias_table", new long[] {biasTableRows(c, s), c.heads(s)});
                linear(p, c, b + "attn.qkv", d, 3 * d, c.qkvBias());
                linear(p, c, b + "attn.proj", d, d, true);
                norm(p, b + "norm2", d);
                linear(p, c, b + "mlp.fc1", d, c.mlpHiddenDim(s), true);
                linear(p, c, b + "mlp.fc2", c.mlpHiddenDim(s), d, true);
            }
            if (s < c.numStages() - 1) {
                String ds = downsamplePrefix(s);
                linear(p, c, ds + "reduction", 4 * d, 2 * d, false);
                norm(p, ds + "norm", 4 * d);
            }
        }
        norm(p, "norm", c.numFeatures());
        if (c.hasHead()) {
            linear(p, c, "head", c.numFeatures(), c.numClasses(), true);
        }
        return p;
    }

    private static void norm(Map<String, long[]> p, String name, int d) {
        p.put(name + ".weight", new long[] {d});
        p.put(name + ".bias", new long[] {d});
    }

    private static void linear(Map<String, long[]> p, SwinConfig c, String name, int dIn, int dOut, boolean bias) {
        LowRankSpec lr = c.lowrank();
        if (lr != null && lr.isDecomposed(name)) {
            int r = lr.rank(name);
            p.put(name + ".0.weight", new long[] {r, dIn});
            p.put(name + ".1.weight", new long[] {dOut, r});
            if (bias) {
                p.put(name + ".1.bias", new long[] {dOut});
            }
        } else {
            p.put(name + ".weight", new long[] {dOut, dIn});
            if (bias) {
                p.put(name + ".bias", new long[] {dOut});
            }
        }
    }
}
