package ai.pela.zoo.vit;

import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Builds a timm Vision Transformer into a SameDiff graph. Every parameter variable is named by its timm
 * state-dict key, so a checkpoint maps onto the graph one-to-one.
 *
 * <p>Tokens are kept as a 2-D [batch·tokens, dim] matrix between blocks so every Linear is a single matmul;
 * they are viewed as 4-D only inside attention. LayerNorm and GELU are written out from primitive ops
 * ({@link GraphOps}).
 */
public final class VitGraph {
    public static final String INPUT = "input";
    public static final String LOGITS = "logits";
    public static final double LN_EPS = 1e-6;

    /**
     * The built graph's handles: its input; the embedding output (patch tokens + class token + position embedding,
     * the input of block 0); every block's output tokens; the tokens after the final norm (all [N, T, D]); and the
     * logits, null for a model without a head ({@code num_classes} 0, ALBEF's image encoder).
     */
    public record Handles(SDVariable input, SDVariable logits, SDVariable embedding, List<SDVariable> blockOutputs,
            SDVariable tokens, List<String> parameterNames) {
        public List<String> blockOutputNames() {
            return blockOutputs.stream().map(SDVariable::name).toList();
        }
    }

    private final SameDiff sd;
    private final ModelConfig cfg;
    private final StateDict weights;
    private final boolean trainable;
    private final String prefix;
    private final List<String> parameterNames = new ArrayList<>();
    private final DataType dtype;

    private VitGraph(SameDiff sd, ModelConfig cfg, StateDict weights, boolean trainable, String prefix, DataType dtype) {
        this.dtype = dtype;
        this.sd = sd;
        this.cfg = cfg;
        this.weights = weights;
        this.trainable = trainable;
        this.prefix = prefix;
    }

    /**
     * Adds the model to {@code sd}.
     *
     * @param weights   a checkpoint that matches {@link VitLayout#parameterShapes} (check it first)
     * @param trainable true: parameters are SameDiff variables (copies of the arrays, updated in place by the
     *                  optimiser); false: constants, so no gradient is ever computed for them (the teacher)
     * @param input     the image batch [N, C, H, W], or null to create the placeholder {@value #INPUT}
     * @param prefix    prepended to every variable name ("" for a model alone in its graph)
     */
    public static Handles build(SameDiff sd, ModelConfig cfg, StateDict weights, boolean trainable, SDVariable input,
            String prefix) {
        return new VitGraph(sd, cfg, weights, trainable, prefix, DataType.FLOAT).build(input);
    }

    /**
     * A constant-weight (teacher) graph computing in {@code dtype}: HALF halves the teacher's memory traffic on a
     * GPU. Layer norms still compute their statistics in FLOAT, as mixed-precision training does, because a variance
     * summed in FP16 loses the small eps and overflows for large activations.
     */
    public static Handles buildFrozen(SameDiff sd, ModelConfig cfg, StateDict weights, DataType dtype) {
        return new VitGraph(sd, cfg, weights, false, "", dtype).build(null);
    }

    public static Handles build(SameDiff sd, ModelConfig cfg, StateDict weights, boolean trainable) {
        return build(sd, cfg, weights, trainable, null, "");
    }

    /**
     * The embedding and the first {@code blocks} blocks only, without final norm and head: the backbone of a
     * dense model, which needs no parameter it does not differentiate. The handles' logits are null.
     */
    public static Handles buildBlocks(SameDiff sd, ModelConfig cfg, StateDict weights, boolean trainable,
            SDVariable input, String prefix, int blocks) {
        VitGraph g = new VitGraph(sd, cfg, weights, trainable, prefix, DataType.FLOAT);
        SDVariable embedding = g.embed(input);
        List<SDVariable> outputs = g.blocks(embedding, blocks);
        return new Handles(input, null, embedding, outputs, null, List.copyOf(g.parameterNames));
    }

    private Handles build(SDVariable input) {
        int d = cfg.embedDim();
        int t = cfg.numTokens();
        SDVariable x = input != null ? input
                : sd.placeHolder(INPUT, dtype, -1, cfg.inChans(), cfg.imgSize(), cfg.imgSize());
        SDVariable embedding = sd.identity(prefix + "embedding", embed(x));
        List<SDVariable> blocks = new ArrayList<>();
        SDVariable h = sd.reshape(embedding, -1, d);
        for (int i = 0; i < cfg.depth(); i++) {
            h = block(h, VitLayout.blockPrefix(i));
            blocks.add(sd.reshape(prefix + "feature." + i, h, -1, t, d));
        }
        SDVariable normed = sd.reshape(prefix + "tokens", layerNorm(h, "norm"), -1, t, d);
        SDVariable logits = null;
        if (cfg.hasHead()) {
            logits = sd.identity(prefix + LOGITS, linear(pool(normed), "head", true));
        }
        return new Handles(x, logits, embedding, blocks, normed, List.copyOf(parameterNames));
    }

    /** The first {@code n} blocks on the embedded tokens; each block's output as [N, T, D]. */
    private List<SDVariable> blocks(SDVariable tokens, int n) {
        int d = cfg.embedDim();
        int t = cfg.numTokens();
        List<SDVariable> blocks = new ArrayList<>();
        SDVariable h = sd.reshape(tokens, -1, d);
        for (int i = 0; i < n; i++) {
            h = block(h, VitLayout.blockPrefix(i));
            blocks.add(sd.reshape(prefix + "feature." + i, h, -1, t, d));
        }
        return blocks;
    }

    /** Patch embedding as a matmul over flattened patches (a stride-p conv with a p×p kernel is exactly that). */
    private SDVariable embed(SDVariable x) {
        int c = cfg.inChans();
        int p = cfg.patchSize();
        int g = cfg.gridSize();
        int d = cfg.embedDim();
        SDVariable patches = sd.reshape(x, -1, c, g, p, g, p);
        patches = sd.permute(patches, 0, 2, 4, 1, 3, 5);
        patches = sd.reshape(patches, -1, (long) c * p * p);
        SDVariable w = sd.reshape(param("patch_embed.proj.weight"), d, (long) c * p * p);
        SDVariable emb = sd.mmul(patches, w, false, true, false).add(param("patch_embed.proj.bias"));
        SDVariable tok = sd.reshape(emb, -1, cfg.numPatches(), d);
        SDVariable pos = param("pos_embed");
        if (!cfg.classToken()) {
            return tok.add(pos);
        }
        // The class token broadcast to the batch: zeros shaped like one token, plus cls_token.
        SDVariable cls = sd.zerosLike(tok.get(SDIndex.all(), SDIndex.interval(0, 1), SDIndex.all()))
                .add(param("cls_token"));
        if (cfg.noEmbedClass()) {
            return sd.concat(1, cls, tok.add(pos));
        }
        return sd.concat(1, cls, tok).add(pos);
    }

    private SDVariable block(SDVariable x, String b) {
        SDVariable a = attention(x, b + "norm1", b + "attn.");
        if (cfg.hasLayerScale()) {
            a = a.mul(param(b + "ls1.gamma"));
        }
        x = x.add(a);
        SDVariable m = linear(gelu(normLinear(x, b + "norm2", b + "mlp.fc1", true)), b + "mlp.fc2", true);
        if (cfg.hasLayerScale()) {
            m = m.mul(param(b + "ls2.gamma"));
        }
        return x.add(m);
    }

    /**
     * timm's Attention on LayerNorm {@code norm} of x: qkv reshaped to (3, N, heads, T, head_dim), scaled dot product,
     * softmax, proj.
     */
    private SDVariable attention(SDVariable x, String norm, String a) {
        int t = cfg.numTokens();
        int heads = cfg.numHeads();
        int hd = cfg.headDim();
        SDVariable qkv = normLinear(x, norm, a + "qkv", cfg.qkvBias());
        qkv = sd.permute(sd.reshape(qkv, -1, t, 3, heads, hd), 2, 0, 3, 1, 4);
        // interval(i, i + 1) rather than point(i): M2.1's strided_slice_bp rejects the shrinking slice of a
        // [3, N, …] array when the batch N is 1 or 2; both select the same values.
        SDVariable q = sd.reshape(qkv.get(SDIndex.interval(0, 1)), -1, t, hd).mul(1.0 / Math.sqrt(hd));
        SDVariable k = sd.reshape(qkv.get(SDIndex.interval(1, 2)), -1, t, hd);
        SDVariable v = sd.reshape(qkv.get(SDIndex.interval(2, 3)), -1, t, hd);
        SDVariable attn = sd.nn().softmax(sd.mmul(q, k, false, true, false), 2);
        SDVariable out = sd.mmul(attn, v);
        out = sd.permute(sd.reshape(out, -1, heads, t, hd), 0, 2, 1, 3);
        return linear(sd.reshape(out, -1, cfg.embedDim()), a + "proj", true);
    }

    private SDVariable pool(SDVariable tokens) {
        int d = cfg.embedDim();
        if (cfg.globalPool().equals("token")) {
            return sd.reshape(tokens.get(SDIndex.all(), SDIndex.point(0), SDIndex.all()), -1, d);
        }
        return tokens.get(SDIndex.all(), SDIndex.interval(cfg.numPrefixTokens(), cfg.numTokens()), SDIndex.all())
                .mean(1);
    }

    /** A Linear on [M, d_in] rows; a decomposed one (PELA) is two thin matmuls, P.0 without bias then P.1. */
    private SDVariable linear(SDVariable x, String name, boolean bias) {
        LowRankSpec lr = cfg.lowrank();
        SDVariable y;
        String biasKey;
        if (lr != null && lr.isDecomposed(name)) {
            SDVariable h = sd.mmul(x, param(name + ".0.weight"), false, true, false);
            y = sd.mmul(h, param(name + ".1.weight"), false, true, false);
            biasKey = name + ".1.bias";
        } else {
            y = sd.mmul(x, param(name + ".weight"), false, true, false);
            biasKey = name + ".bias";
        }
        return bias ? y.add(param(biasKey)) : y;
    }

    /**
     * {@code linear(layerNorm(x, norm), name, bias)}, with the norm's affine folded into the Linear's (first) weight:
     * (x̂·γ + β)·Wᵀ = x̂·(W·diag γ)ᵀ + β·Wᵀ. Same function and gradients; why: M2.1's multiply_bp tiles a broadcast
     * operand to the activation's full shape before reducing it (measured ~20 ms on deit_tiny's [3152, 192]
     * against ~1 ms for equal shapes), and γ broadcast over [d_out, d_in] weights is 16–40× smaller than over the
     * [N·T, d] activations; the γ-scaled and β-shifted activations are also never materialised.
     */
    private SDVariable normLinear(SDVariable x, String norm, String name, boolean bias) {
        if (dtype != DataType.FLOAT) {
            return linear(layerNorm(x, norm), name, bias);
        }
        SDVariable gamma = param(norm + ".weight");
        SDVariable beta = sd.reshape(param(norm + ".bias"), 1, cfg.embedDim());
        LowRankSpec lr = cfg.lowrank();
        boolean decomposed = lr != null && lr.isDecomposed(name);
        // A thin first factor (rank < d): the per-row 1/std commutes with the matmul, so it scales the [N·T, rank]
        // product instead of the [N·T, d] input — the same broadcast gradient over fewer elements.
        boolean thin = decomposed && lr.rank(name) < cfg.embedDim();
        SDVariable in = thin ? GraphOps.centre(x, 1) : GraphOps.standardise(sd, x, 1, LN_EPS);
        SDVariable first = param(name + (decomposed ? ".0.weight" : ".weight"));
        SDVariable h = sd.mmul(in, first.mul(gamma), false, true, false);
        if (thin) {
            h = h.mul(GraphOps.inverseStd(sd, in, 1, LN_EPS));
        }
        SDVariable shift = sd.mmul(beta, first, false, true, false);
        if (!decomposed) {
            return h.add(bias ? shift.add(param(name + ".bias")) : shift);
        }
        SDVariable y = sd.mmul(h.add(shift), param(name + ".1.weight"), false, true, false);
        return bias ? y.add(param(name + ".1.bias")) : y;
    }

    private SDVariable layerNorm(SDVariable x, String name) {
        if (dtype == DataType.FLOAT) {
            return GraphOps.layerNorm(sd, x, param(name + ".weight"), param(name + ".bias"), LN_EPS);
        }
        SDVariable normed = sd.castTo(GraphOps.standardise(sd, sd.castTo(x, DataType.FLOAT), 1, LN_EPS), dtype);
        return normed.mul(param(name + ".weight")).add(param(name + ".bias"));
    }

    private SDVariable gelu(SDVariable x) {
        return GraphOps.gelu(sd, x);
    }

    private SDVariable param(String key) {
        String name = prefix + key;
        if (sd.hasVariable(name)) {
            return sd.getVariable(name);
        }
        INDArray arr = weights.get(key);
        if (arr.dataType() != dtype) {
            arr = arr.castTo(dtype);
        }
        parameterNames.add(name);
        return trainable ? sd.var(name, arr.dup()) : sd.constant(name, arr);
    }
}
