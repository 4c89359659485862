package ai.pela.zoo.albef;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.loss.Losses;
import ai.pela.zoo.vit.VitGraph;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Builds ALBEF's pre-training forward and its three losses (models/model_pretrain.py, without momentum encoders,
 * queues and momentum distillation) into a SameDiff graph whose variables are named by the checkpoint keys.
 *
 * <pre>
 * image ─ visual_encoder (VitGraph, no head) ─ image_embeds [N, T, D] ─ vision_proj(cls) → image_feat
 * input_ids ─ bert text layers 0..F-1 ─ text_embeds [N, L, H] ─ text_proj(cls) → text_feat
 *   ITC: sim = image_feat·text_featᵀ / temp, cross-entropy against the targets, both directions, averaged
 *   ITM: fusion layers F.. on 3N pairs (positive, text + hard negative image, hard negative text + image),
 *        itm_head on the fused class token
 * mlm_input_ids ─ text layers ─ fusion layers (with image_embeds) ─ MLM head at the masked positions ─ MLM loss
 * </pre>
 * The hard negatives are chosen outside (ALBEF samples them from softmax(sim) with the diagonal zeroed, see
 * {@link HardNegatives}) and come in as one-hot selection matrices, so the graph stays differentiable in everything
 * else. Rows are picked by matmuls with such matrices (negatives, masked positions) and word embeddings are
 * looked up on the host ({@link WordEmbeddings}), because SameDiff 1.0.0-M2.1 cannot differentiate a graph with
 * more than one {@code gather}. The MLM head runs only at the masked positions: the loss and its gradients are
 * those of ALBEF's, which computes the 30,522-way logits at every position and then ignores the unmasked ones.
 * The image tokens' cross-attention keys and values are computed once per fusion layer and shared by the 3N ITM
 * pairs and the MLM pass, where ALBEF computes them for 4N images: same values, 4.2 of 31.7 GMACs per pair less
 * in albef_base's training forward (30-token captions).
 * {@link AlbefBatch#placeholders} makes every placeholder from a batch.
 *
 * <p>Hidden states for L_fd, named as PELA's ALBEF returns them: {@code image_out.0..depth} (embedding output and
 * every ViT block, before the final norm), {@code text_out.0..F} (embedding output and every text layer, clean
 * caption), {@code text_mlm_out.0..layers} (embedding output and every text and fusion layer of the MLM pass).
 */
public final class AlbefGraph {
    public static final String IMAGE = "image";
    /** [N, L, H] word-embedding rows of the captions' input_ids (differentiated: see {@link WordEmbeddings}). */
    public static final String TEXT_WORDS = "text.words";
    public static final String ATTENTION_MASK = "text.attention_mask";
    /** [N, L, H] word-embedding rows of the masked captions. */
    public static final String MLM_WORDS = "mlm.words";
    /** [M, N·L] one-hot rows picking the M masked tokens out of the batch's N·L. */
    public static final String MLM_SELECT = "mlm.select";
    /** [M] the masked tokens' original ids. */
    public static final String MLM_LABELS = "mlm.labels";
    /** [N, N] one-hot rows: row b picks the hard negative image of caption b. */
    public static final String NEG_IMAGE = "itm.neg_image";
    /** [N, N] one-hot rows: row b picks the hard negative caption of image b. */
    public static final String NEG_TEXT = "itm.neg_text";
    public static final String ITC_TARGETS = "itc.targets";
    public static final String ITM_TARGETS = "itm.targets";

    public static final String IMAGE_FEAT = "image_feat";
    public static final String TEXT_FEAT = "text_feat";
    public static final String SIM_I2T = "sim_i2t";
    public static final String ITM_LOGITS = "itm.logits";
    public static final String MLM_LOGITS = "mlm.logits";
    public static final String LOSS_ITC = "loss.itc";
    public static final String LOSS_ITM = "loss.itm";
    public static final String LOSS_MLM = "loss.mlm";
    public static final String LOSS_BASE = "loss.base";

    /**
     * The graph's outputs; hidden states are [N, tokens, width]. {@code linearInputs}: the input variable (rows
     * [M, d_in]) of each Linear outside the image encoder, by the Linear's name; a Linear the graph runs in several
     * passes has the input of its last: the text layers' and fusion layers' are those of the MLM pass (which runs
     * the captions through every layer with the image), the ITM head's that of the ITM pairs. The image encoder's
     * Linears are not listed: {@link VitGraph} folds each LayerNorm's affine into the Linear after it, so their
     * true inputs never exist in the graph (the ViT engine shows them, see {@link AlbefCalibration}).
     */
    public record Handles(SDVariable simI2T, SDVariable lossBase, List<SDVariable> imageOut, List<SDVariable> textOut,
            List<SDVariable> textMlmOut, List<String> parameterNames, Map<String, String> linearInputs) {
        /** Every hidden state L_fd pairs up, in PELA's order: image_out, text_out, text_mlm_out. */
        public List<SDVariable> hiddenStates() {
            List<SDVariable> all = new ArrayList<>(imageOut);
            all.addAll(textOut);
            all.addAll(textMlmOut);
            return all;
        }

        public List<String> hiddenStateNames() {
            return hiddenStates().stream().map(SDVariable::name).toList();
        }
    }

    private final SameDiff sd;
    private final AlbefConfig cfg;
    private final StateDict weights;
    private final boolean trainable;
    private final GraphParams params;
    private final BertGraph bert;
    private final int length;

    private AlbefGraph(SameDiff sd, AlbefConfig cfg, StateDict weights, boolean trainable, int length) {
        this.sd = sd;
        this.cfg = cfg;
        this.weights = weights;
        this.trainable = trainable;
        this.length = length;
        this.params = new GraphParams(sd, weights, trainable, cfg.lowrank());
        this.bert = new BertGraph(sd, params, cfg.text(), length);
    }

    /**
     * Adds the model and its losses to {@code sd}.
     *
     * @param weights    a checkpoint matching {@link AlbefLayout#parameterShapes} (check it first)
     * @param trainable  true: parameters are variables (the student); false: constants (the teacher, inference)
     * @param textLength the caption length L of every batch fed to this graph
     */
    public static Handles build(SameDiff sd, AlbefConfig cfg, StateDict weights, boolean trainable, int textLength) {
        if (textLength < 1 || textLength > cfg.text().maxPositionEmbeddings()) {
            throw new PelaException("text length " + textLength + " outside [1, max_position_embeddings = "
                    + cfg.text().maxPositionEmbeddings() + "]");
        }
        return new AlbefGraph(sd, cfg, weights, trainable, textLength).build();
    }

    private Handles build() {
        int img = cfg.vision().imgSize();
        SDVariable image = sd.placeHolder(IMAGE, DataType.FLOAT, -1, cfg.vision().inChans(), img, img);
        VitGraph.Handles vit = VitGraph.build(sd, cfg.visionConfig(), visionWeights(), trainable, image,
                AlbefLayout.VISUAL);
        List<SDVariable> imageOut = new ArrayList<>();
        imageOut.add(sd.identity("image_out.0", vit.embedding()));
        vit.blockOutputs().forEach(b -> imageOut.add(sd.identity("image_out." + imageOut.size(), b)));
        SDVariable imageEmbeds = vit.tokens(); // [N, T, D] after the final norm

        SDVariable words = sd.placeHolder(TEXT_WORDS, DataType.FLOAT, -1, length, hidden());
        SDVariable mask = bert.extendedMask(sd.placeHolder(ATTENTION_MASK, DataType.FLOAT, -1, length));
        List<SDVariable> textOut = new ArrayList<>();
        SDVariable textEmbeds = textEncoder(words, mask, textOut, "text_out");

        // 1/temp times, not a division: M2.1 differentiates x.div(0-d variable) wrongly (n-fold for an n-element x)
        SDVariable invTemp = sd.math().reciprocal(params.get(AlbefLayout.TEMP));
        SDVariable imageFeat = normalize(IMAGE_FEAT,
                params.linear(cls(imageEmbeds, cfg.vision().embedDim()), AlbefLayout.VISION_PROJ));
        SDVariable textFeat = normalize(TEXT_FEAT, params.linear(cls(tokens(textEmbeds), hidden()), AlbefLayout.TEXT_PROJ));
        SDVariable simI2T = sd.mmul(imageFeat, textFeat, false, true, false).mul(invTemp).rename(SIM_I2T);
        SDVariable simT2I = sd.mmul(textFeat, imageFeat, false, true, false).mul(invTemp);
        SDVariable itc = itc(simI2T, simT2I);
        List<BertGraph.KeysValues> imageKv = bert.imageKeysValues(flat(imageEmbeds, cfg.vision().embedDim()),
                cfg.vision().numTokens());
        SDVariable itm = itm(imageKv, tokens(textEmbeds), mask);
        List<SDVariable> textMlmOut = new ArrayList<>();
        SDVariable mlm = mlm(imageKv, mask, textMlmOut);
        SDVariable base = sd.identity(LOSS_BASE, itc.add(itm).add(mlm));

        List<String> names = new ArrayList<>(vit.parameterNames());
        names.addAll(params.names());
        return new Handles(simI2T, base, imageOut, textOut, textMlmOut, List.copyOf(names), params.linearInputs());
    }

    /** The text encoder (ALBEF's mode 'text'): embeddings and layers 0..F-1; returns [N·L, H]. */
    private SDVariable textEncoder(SDVariable words, SDVariable mask, List<SDVariable> hidden, String tag) {
        SDVariable x = bert.embed(words);
        hidden.add(sd.reshape(tag + ".0", x, -1, length, hidden()));
        return bert.layers(x, mask, null, 0, cfg.text().textLayers(), hidden, tag);
    }

    /** ITC without queue or momentum distillation: targets are the identity unless the caller feeds soft ones. */
    private SDVariable itc(SDVariable simI2T, SDVariable simT2I) {
        SDVariable targets = sd.placeHolder(ITC_TARGETS, DataType.FLOAT, -1, -1);
        SDVariable i2t = Losses.crossEntropy(sd, LOSS_ITC + ".i2t", simI2T, targets);
        SDVariable t2i = Losses.crossEntropy(sd, LOSS_ITC + ".t2i", simT2I, targets);
        return i2t.add(t2i).mul(0.5).rename(LOSS_ITC);
    }

    /**
     * ITM on 3N pairs in ALBEF's order: (text_i, image_i) positive; (text_i, neg_image_i); (neg_text_i, image_i),
     * all through one fusion pass (each pair is independent, so this equals ALBEF's two passes).
     */
    private SDVariable itm(List<BertGraph.KeysValues> image, SDVariable text, SDVariable mask) {
        SDVariable negImage = sd.placeHolder(NEG_IMAGE, DataType.FLOAT, -1, -1);
        SDVariable negText = sd.placeHolder(NEG_TEXT, DataType.FLOAT, -1, -1);
        List<BertGraph.KeysValues> images = new ArrayList<>();
        for (BertGraph.KeysValues kv : image) {
            images.add(new BertGraph.KeysValues(positivesAndNegatives(negImage, kv.keys()),
                    positivesAndNegatives(negImage, kv.values())));
        }
        SDVariable texts = sd.concat(0, text, text, select(negText, text, length, hidden()));
        SDVariable masks = sd.concat(0, mask, mask, select(negText, mask, 1, 1, length));
        BertConfig b = cfg.text();
        SDVariable fused = bert.layers(flat(texts, hidden()), masks, images, b.fusionLayer(), b.numHiddenLayers(), null,
                null);
        SDVariable logits = params.linear(cls(tokens(fused), hidden()), AlbefLayout.ITM_HEAD).rename(ITM_LOGITS);
        SDVariable targets = sd.placeHolder(ITM_TARGETS, DataType.FLOAT, -1, 2);
        return Losses.crossEntropy(sd, LOSS_ITM, logits, targets);
    }

    /** Image keys or values [N·heads, T, hd] for the 3N ITM pairs: the images, their negatives, the images. */
    private SDVariable positivesAndNegatives(SDVariable negImage, SDVariable x) {
        int heads = cfg.text().numAttentionHeads();
        int t = cfg.vision().numTokens();
        int hd = cfg.text().headDim();
        SDVariable negatives = sd.reshape(select(negImage, x, heads, t, hd), -1, t, hd);
        return sd.concat(0, x, negatives, x);
    }

    /** MLM: the masked caption through all layers with the image, then the head at the masked positions only. */
    private SDVariable mlm(List<BertGraph.KeysValues> image, SDVariable mask, List<SDVariable> hidden) {
        SDVariable words = sd.placeHolder(MLM_WORDS, DataType.FLOAT, -1, length, hidden());
        SDVariable x = textEncoder(words, mask, hidden, "text_mlm_out");
        BertConfig b = cfg.text();
        x = bert.layers(x, mask, image, b.fusionLayer(), b.numHiddenLayers(), hidden, "text_mlm_out");
        SDVariable positions = sd.placeHolder(MLM_SELECT, DataType.FLOAT, -1, -1);
        SDVariable labels = sd.placeHolder(MLM_LABELS, DataType.INT, -1);
        SDVariable logits = mlmHead(sd.mmul(positions, x)).rename(MLM_LOGITS);
        SDVariable targets = sd.oneHot(labels, cfg.text().vocabSize(), -1, 1.0, 0.0, DataType.FLOAT);
        return Losses.crossEntropy(sd, LOSS_MLM, logits, targets);
    }

    /** BertLMPredictionHead: dense, GELU, LayerNorm, then the decoder tied to the word embeddings plus its bias. */
    private SDVariable mlmHead(SDVariable x) {
        String t = AlbefLayout.PREDICTIONS + "transform.";
        SDVariable h = params.layerNorm(params.gelu(params.linear(x, t + "dense")), t + "LayerNorm",
                cfg.text().layerNormEps());
        return sd.mmul(h, params.get(AlbefLayout.WORD_EMBEDDINGS), false, true, false).add(params.get(AlbefLayout.MLM_BIAS));
    }

    /** F.normalize(x, dim=-1): rows scaled to unit L2 norm (its 1e-12 floor only matters for zero rows). */
    private SDVariable normalize(String name, SDVariable x) {
        return x.div(sd.math().sqrt(x.mul(x).sum(true, 1))).rename(name);
    }

    /** Rows of {@code x} [N, dims...] picked by a one-hot matrix [K, N]: a differentiable gather, [K, dims...]. */
    private SDVariable select(SDVariable oneHot, SDVariable x, long... dims) {
        long rowWidth = 1;
        long[] out = new long[dims.length + 1];
        out[0] = -1;
        for (int i = 0; i < dims.length; i++) {
            rowWidth *= dims[i];
            out[i + 1] = dims[i];
        }
        return sd.reshape(sd.mmul(oneHot, sd.reshape(x, -1, rowWidth)), out);
    }

    /** The class token of [N, T, width] tokens: [N, width]. */
    private SDVariable cls(SDVariable tokens3d, int width) {
        return sd.reshape(tokens3d.get(SDIndex.all(), SDIndex.point(0), SDIndex.all()), -1, width);
    }

    /** [N·L, H] text rows viewed as [N, L, H]. */
    private SDVariable tokens(SDVariable rows) {
        return sd.reshape(rows, -1, length, hidden());
    }

    private SDVariable flat(SDVariable tokens3d, int width) {
        return sd.reshape(tokens3d, -1, width);
    }

    private int hidden() {
        return cfg.text().hiddenSize();
    }

    /** The image encoder's tensors under their timm names (VitGraph adds the visual_encoder. prefix back). */
    private StateDict visionWeights() {
        StateDict v = new StateDict();
        weights.asMap().forEach((k, a) -> {
            if (k.startsWith(AlbefLayout.VISUAL)) {
                v.put(k.substring(AlbefLayout.VISUAL.length()), a);
            }
        });
        return v;
    }
}
