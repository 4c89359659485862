package ai.pela.zoo.albef;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * ALBEF's BERT (models/xbert.py) in SameDiff, variable names = HF checkpoint keys. Token rows are kept as a 2-D
 * [batch·L, hidden] matrix so every Linear is one matmul; they are viewed as 4-D only inside attention.
 * Captions have a fixed length L per graph (padded; the padding mask makes the result independent of it).
 */
final class BertGraph {
    private final SameDiff sd;
    private final GraphParams p;
    private final BertConfig c;
    private final int length;

    BertGraph(SameDiff sd, GraphParams p, BertConfig c, int length) {
        this.sd = sd;
        this.p = p;
        this.c = c;
        this.length = length;
    }

    /**
     * BertEmbeddings: word + token type 0 (ALBEF passes no token types) + position, then LayerNorm.
     *
     * @param words [N, L, H] the word-embedding rows of the caption (looked up on the host, see {@link WordEmbeddings})
     * @return [N·L, H]
     */
    SDVariable embed(SDVariable words) {
        SDVariable positions = p.get(AlbefLayout.POSITION_EMBEDDINGS).get(SDIndex.interval(0, length), SDIndex.all());
        SDVariable tokenType = p.get(AlbefLayout.TOKEN_TYPE_EMBEDDINGS).get(SDIndex.point(0), SDIndex.all());
        SDVariable emb = sd.reshape(words.add(positions).add(tokenType), -1, c.hiddenSize());
        return p.layerNorm(emb, AlbefLayout.EMBEDDINGS + "LayerNorm", c.layerNormEps());
    }

    /** HF's extended attention mask: [N, 1, 1, L], 0 where a token is attended and −10000 at padding. */
    SDVariable extendedMask(SDVariable attentionMask) {
        return sd.reshape(attentionMask.rsub(1.0).mul(-10000.0), -1, 1, 1, length);
    }

    /** Keys and values of the image tokens for one fusion layer's cross-attention, [N·heads, T, head_dim] each. */
    record KeysValues(SDVariable keys, SDVariable values) {
    }

    /**
     * The cross-attention keys and values of every fusion layer, from image tokens [N·T, encoder_width]. Computed
     * once per batch and shared by every pass over the same images (a Linear acts row by row, so picking images
     * before or after it is the same); ALBEF recomputes them for each of its fusion passes.
     */
    List<KeysValues> imageKeysValues(SDVariable image, int imageTokens) {
        List<KeysValues> kv = new ArrayList<>();
        for (int i = c.fusionLayer(); i < c.numHiddenLayers(); i++) {
            String a = AlbefLayout.layerPrefix(i) + "crossattention.self.";
            kv.add(new KeysValues(heads(p.linear(image, a + "key"), imageTokens),
                    heads(p.linear(image, a + "value"), imageTokens)));
        }
        return kv;
    }

    /**
     * Layers {@code from .. to-1}. Each layer's output is appended to {@code hidden} (as [N, L, H], named
     * {@code tag.i}) unless {@code hidden} is null; the list then holds what HF's output_hidden_states gives after
     * its embedding output.
     *
     * @param image the image keys and values of the fusion layers (one entry per fusion layer), or null for text layers
     */
    SDVariable layers(SDVariable x, SDVariable mask, List<KeysValues> image, int from, int to, List<SDVariable> hidden,
            String tag) {
        for (int i = from; i < to; i++) {
            x = layer(x, mask, c.hasCrossAttention(i) ? image.get(i - c.fusionLayer()) : null, i);
            if (hidden != null) {
                hidden.add(sd.reshape(tag + "." + (hidden.size()), x, -1, length, c.hiddenSize()));
            }
        }
        return x;
    }

    private SDVariable layer(SDVariable x, SDVariable mask, KeysValues image, int i) {
        String l = AlbefLayout.layerPrefix(i);
        String a = l + "attention.self.";
        SDVariable attn = attention(x, new KeysValues(heads(p.linear(x, a + "key"), length),
                heads(p.linear(x, a + "value"), length)), mask, l + "attention.");
        if (image != null) {
            // image tokens are never padded (ALBEF's image_atts are ones), so cross-attention has no mask
            attn = attention(attn, image, null, l + "crossattention.");
        }
        SDVariable inter = p.gelu(p.linear(attn, l + "intermediate.dense"));
        return p.layerNorm(p.linear(inter, l + "output.dense").add(attn), l + "output.LayerNorm", c.layerNormEps());
    }

    /** BertAttention: multi-head scaled dot product of queries from x over kv, then dense + add & norm. */
    private SDVariable attention(SDVariable x, KeysValues kv, SDVariable mask, String a) {
        int heads = c.numAttentionHeads();
        int hd = c.headDim();
        SDVariable q = heads(p.linear(x, a + "self.query"), length).mul(1.0 / Math.sqrt(hd));
        SDVariable scores = sd.mmul(q, kv.keys(), false, true, false); // [N·heads, L, keys]
        if (mask != null) {
            scores = sd.reshape(sd.reshape(scores, -1, heads, length, length).add(mask), -1, length, length);
        }
        SDVariable context = sd.mmul(sd.nn().softmax(scores, 2), kv.values()); // [N·heads, L, hd]
        context = sd.reshape(sd.permute(sd.reshape(context, -1, heads, length, hd), 0, 2, 1, 3), -1, c.hiddenSize());
        return p.layerNorm(p.linear(context, a + "output.dense").add(x), a + "output.LayerNorm", c.layerNormEps());
    }

    /** [N·T, H] rows → [N·heads, T, head_dim] (HF's transpose_for_scores). */
    private SDVariable heads(SDVariable x, int tokens) {
        SDVariable t = sd.reshape(x, -1, tokens, c.numAttentionHeads(), c.headDim());
        return sd.reshape(sd.permute(t, 0, 2, 1, 3), -1, tokens, c.headDim());
    }
}
