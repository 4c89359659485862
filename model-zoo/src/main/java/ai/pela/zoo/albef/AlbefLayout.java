package ai.pela.zoo.albef;

import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.vit.LinearSpec;
import ai.pela.zoo.vit.VitLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The checkpoint layout of ALBEF's pre-training model without its momentum copies: every parameter key with its
 * shape, in the order of the PyTorch state dict ({@code temp}, {@code visual_encoder.*}, {@code text_encoder.*},
 * {@code vision_proj}, {@code text_proj}, {@code itm_head}), and every Linear in forward order.
 *
 * <p>The MLM decoder is tied to the word embeddings, as in ALBEF (HF's BertForMaskedLM ties them): its weight is
 * {@value #WORD_EMBEDDINGS} and its bias {@code text_encoder.cls.predictions.bias}. A PyTorch state dict also lists
 * them as {@code cls.predictions.decoder.weight/bias}; {@link AlbefCheckpoint} folds those aliases away.
 */
public final class AlbefLayout {
    public static final String TEMP = "temp";
    public static final String VISUAL = "visual_encoder.";
    public static final String BERT = "text_encoder.bert.";
    public static final String EMBEDDINGS = BERT + "embeddings.";
    public static final String WORD_EMBEDDINGS = EMBEDDINGS + "word_embeddings.weight";
    public static final String POSITION_EMBEDDINGS = EMBEDDINGS + "position_embeddings.weight";
    public static final String TOKEN_TYPE_EMBEDDINGS = EMBEDDINGS + "token_type_embeddings.weight";
    public static final String PREDICTIONS = "text_encoder.cls.predictions.";
    public static final String MLM_BIAS = PREDICTIONS + "bias";
    public static final String VISION_PROJ = "vision_proj";
    public static final String TEXT_PROJ = "text_proj";
    public static final String ITM_HEAD = "itm_head";

    private AlbefLayout() {
    }

    public static String layerPrefix(int i) {
        return BERT + "encoder.layer." + i + ".";
    }

    /**
     * Every Linear in forward order, with the tokens it sees when one image-text pair with {@code textTokens}
     * tokens goes once through every layer: the image encoder, the text and fusion layers (cross-attention keys and
     * values over the image tokens), the MLM head over the text, and the projections and ITM head on one token.
     * The patch embedding is marked {@code conv}; the MLM decoder is listed (it is a matmul) though its weight is
     * the word-embedding matrix.
     */
    public static List<LinearSpec> linears(AlbefConfig c, int textTokens) {
        BertConfig b = c.text();
        int h = b.hiddenSize();
        int imageTokens = c.vision().numTokens();
        List<LinearSpec> out = new ArrayList<>();
        for (LinearSpec l : VitLayout.linears(c.vision())) {
            out.add(new LinearSpec(VISUAL + l.name(), l.dIn(), l.dOut(), l.hasBias(), l.tokens(), l.conv()));
        }
        for (int i = 0; i < b.numHiddenLayers(); i++) {
            String p = layerPrefix(i);
            attentionLinears(out, p + "attention.", h, h, textTokens, textTokens);
            if (b.hasCrossAttention(i)) {
                attentionLinears(out, p + "crossattention.", h, b.encoderWidth(), textTokens, imageTokens);
            }
            out.add(new LinearSpec(p + "intermediate.dense", h, b.intermediateSize(), true, textTokens, false));
            out.add(new LinearSpec(p + "output.dense", b.intermediateSize(), h, true, textTokens, false));
        }
        out.add(new LinearSpec(PREDICTIONS + "transform.dense", h, h, true, textTokens, false));
        out.add(new LinearSpec(PREDICTIONS + "decoder", h, b.vocabSize(), true, textTokens, false));
        out.add(new LinearSpec(VISION_PROJ, c.vision().embedDim(), c.embedDim(), true, 1, false));
        out.add(new LinearSpec(TEXT_PROJ, h, c.embedDim(), true, 1, false));
        out.add(new LinearSpec(ITM_HEAD, h, 2, true, 1, false));
        return out;
    }

    private static void attentionLinears(List<LinearSpec> out, String a, int h, int kvIn, int queries, int keys) {
        out.add(new LinearSpec(a + "self.query", h, h, true, queries, false));
        out.add(new LinearSpec(a + "self.key", kvIn, h, true, keys, false));
        out.add(new LinearSpec(a + "self.value", kvIn, h, true, keys, false));
        out.add(new LinearSpec(a + "output.dense", h, h, true, queries, false));
    }

    /** State-dict key → shape of every parameter of the model {@code c} describes, in PyTorch's order. */
    public static Map<String, long[]> parameterShapes(AlbefConfig c) {
        BertConfig b = c.text();
        int h = b.hiddenSize();
        LowRankSpec lr = c.lowrank();
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put(TEMP, new long[0]); // a 0-d tensor, torch.ones([]) * temp
        VitLayout.parameterShapes(c.visionConfig()).forEach((k, v) -> s.put(VISUAL + k, v));
        s.put(WORD_EMBEDDINGS, new long[] {b.vocabSize(), h});
        s.put(POSITION_EMBEDDINGS, new long[] {b.maxPositionEmbeddings(), h});
        s.put(TOKEN_TYPE_EMBEDDINGS, new long[] {b.typeVocabSize(), h});
        norm(s, EMBEDDINGS + "LayerNorm", h);
        for (int i = 0; i < b.numHiddenLayers(); i++) {
            String p = layerPrefix(i);
            attention(s, lr, p + "attention.", h, h);
            if (b.hasCrossAttention(i)) {
                attention(s, lr, p + "crossattention.", h, b.encoderWidth());
            }
            linear(s, lr, p + "intermediate.dense", h, b.intermediateSize());
            linear(s, lr, p + "output.dense", b.intermediateSize(), h);
            norm(s, p + "output.LayerNorm", h);
        }
        s.put(MLM_BIAS, new long[] {b.vocabSize()});
        linear(s, lr, PREDICTIONS + "transform.dense", h, h);
        norm(s, PREDICTIONS + "transform.LayerNorm", h);
        linear(s, lr, VISION_PROJ, c.vision().embedDim(), c.embedDim());
        linear(s, lr, TEXT_PROJ, h, c.embedDim());
        linear(s, lr, ITM_HEAD, h, 2);
        return s;
    }

    private static void attention(Map<String, long[]> s, LowRankSpec lr, String a, int h, int kvIn) {
        linear(s, lr, a + "self.query", h, h);
        linear(s, lr, a + "self.key", kvIn, h);
        linear(s, lr, a + "self.value", kvIn, h);
        linear(s, lr, a + "output.dense", h, h);
        norm(s, a + "output.LayerNorm", h);
    }

    private static void norm(Map<String, long[]> s, String name, int d) {
        s.put(name + ".weight", new long[] {d});
        s.put(name + ".bias", new long[] {d});
    }

    /** Every ALBEF Linear has a bias; a decomposed one is stored as P.0 (no bias) and P.1 (PELA's layout). */
    private static void linear(Map<String, long[]> s, LowRankSpec lr, String name, int dIn, int dOut) {
        if (lr != null && lr.isDecomposed(name)) {
            int r = lr.rank(name);
            s.put(name + ".0.weight", new long[] {r, dIn});
            s.put(name + ".1.weight", new long[] {dOut, r});
            s.put(name + ".1.bias", new long[] {dOut});
        } else {
            s.put(name + ".weight", new long[] {dOut, dIn});
            s.put(name + ".bias", new long[] {dOut});
        }
    }
}
