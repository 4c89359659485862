package ai.pela.zoo.vit;

import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.config.ModelConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The checkpoint layout of a timm ViT: which Linears it has and every state-dict key with its shape, in timm's
 * order. A low-rank student replaces {@code P.weight/P.bias} of each decomposed Linear P by
 * {@code P.0.weight [r, d_in]}, {@code P.1.weight [d_out, r]}, {@code P.1.bias [d_out]} (PELA's layout).
 */
public final class VitLayout {
    private VitLayout() {
    }

    public static String blockPrefix(int i) {
        return "blocks." + i + ".";
    }

    /** Every dense Linear of the model in forward order, with the number of tokens it sees at batch 1. */
    public static List<LinearSpec> linears(ModelConfig c) {
        int d = c.embedDim();
        int t = c.numTokens();
        List<LinearSpec> out = new ArrayList<>();
        out.add(new LinearSpec("patch_embed.proj", c.inChans() * c.patchSize() * c.patchSize(), d, true, c.numPatches(), true));
        for (int i = 0; i < c.depth(); i++) {
            String b = blockPrefix(i);
            out.add(new LinearSpec(b + "attn.qkv", d, 3 * d, c.qkvBias(), t, false));
            out.add(new LinearSpec(b + "attn.proj", d, d, true, t, false));
            out.add(new LinearSpec(b + "mlp.fc1", d, c.mlpHiddenDim(), true, t, false));
            out.add(new LinearSpec(b + "mlp.fc2", c.mlpHiddenDim(), d, true, t, false));
        }
        if (c.hasHead()) {
            out.add(new LinearSpec("head", d, c.numClasses(), true, 1, false));
        }
        return out;
    }

    /** State-dict key → shape the model built from {@code c} needs, in timm's order. */
    public static Map<String, long[]> parameterShapes(ModelConfig c) {
        Map<String, long[]> s = new LinkedHashMap<>();
        int d = c.embedDim();
        if (c.classToken()) {
            s.put("cls_token", new long[] {1, 1, d});
        }
        s.put("pos_embed", new long[] {1, c.posEmbedTokens(), d});
        s.put("patch_embed.proj.weight", new long[] {d, c.inChans(), c.patchSize(), c.patchSize()});
        s.put("patch_embed.proj.bias", new long[] {d});
        for (int i = 0; i < c.depth(); i++) {
            String b = blockPrefix(i);
            norm(s, b + "norm1", d);
            linear(s, c, b + "attn.qkv", d, 3 * d, c.qkvBias());
            linear(s, c, b + "attn.proj", d, d, true);
            if (c.hasLayerScale()) {
                s.put(b + "ls1.gamma", new long[] {d});
            }
            norm(s, b + "norm2", d);
            linear(s, c, b + "mlp.fc1", d, c.mlpHiddenDim(), true);
            linear(s, c, b + "mlp.fc2", c.mlpHiddenDim(), d, true);
            if (c.hasLayerScale()) {
                s.put(b + "ls2.gamma", new long[] {d});
            }
        }
        norm(s, "norm", d);
        if (c.hasHead()) {
            linear(s, c, "head", d, c.numClasses(), true);
        }
        return s;
    }

    private static void norm(Map<String, long[]> s, String name, int d) {
        s.put(name + ".weight", new long[] {d});
        s.put(name + ".bias", new long[] {d});
    }

    private static void linear(Map<String, long[]> s, ModelConfig c, String name, int dIn, int dOut, boolean bias) {
        LowRankSpec lr = c.lowrank();
        if (lr != null && lr.isDecomposed(name)) {
            int r = lr.rank(name);
            s.put(name + ".0.weight", new long[] {r, dIn});
            s.put(name + ".1.weight", new long[] {dOut, r});
            if (bias) {
                s.put(name + ".1.bias", new long[] {dOut});
            }
        } else {
            s.put(name + ".weight", new long[] {dOut, dIn});
            if (bias) {
                s.put(name + ".bias", new long[] {dOut});
            }
        }
    }
}
