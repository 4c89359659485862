package ai.pela.zoo.albef;

import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.vit.LinearSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The checkpoint layout of a text encoder on its own: ALBEF's {@code text_encoder.bert} embeddings and text layers
 * {@code 0 .. fusion_layer-1} (no cross-attention, no MLM head, no projections), keys as in {@link AlbefLayout}.
 * A sentence encoder such as all-MiniLM-L6-v2 is this with {@code fusion_layer = num_hidden_layers}.
 */
public final class BertTextLayout {
    private BertTextLayout() {
    }

    /** State-dict key → shape, in HF's order; a Linear named in {@code lowrank} is stored as P.0 / P.1. */
    public static Map<String, long[]> parameterShapes(BertConfig b, LowRankSpec lowrank) {
        int h = b.hiddenSize();
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put(AlbefLayout.WORD_EMBEDDINGS, new long[] {b.vocabSize(), h});
        s.put(AlbefLayout.POSITION_EMBEDDINGS, new long[] {b.maxPositionEmbeddings(), h});
        s.put(AlbefLayout.TOKEN_TYPE_EMBEDDINGS, new long[] {b.typeVocabSize(), h});
        norm(s, AlbefLayout.EMBEDDINGS + "LayerNorm", h);
        for (int i = 0; i < b.textLayers(); i++) {
            String p = AlbefLayout.layerPrefix(i);
            for (String l : List.of("self.query", "self.key", "self.value", "output.dense")) {
                linear(s, lowrank, p + "attention." + l, h, h);
            }
            norm(s, p + "attention.output.LayerNorm", h);
            linear(s, lowrank, p + "intermediate.dense", h, b.intermediateSize());
            linear(s, lowrank, p + "output.dense", b.intermediateSize(), h);
            norm(s, p + "output.LayerNorm", h);
        }
        return s;
    }

    /** Every Linear of the text layers in forward order, each seeing {@code tokens} tokens. */
    public static List<LinearSpec> linears(BertConfig b, int tokens) {
        int h = b.hiddenSize();
        List<LinearSpec> out = new ArrayList<>();
        for (int i = 0; i < b.textLayers(); i++) {
            String p = AlbefLayout.layerPrefix(i);
            for (String l : List.of("self.query", "self.key", "self.value", "output.dense")) {
                out.add(new LinearSpec(p + "attention." + l, h, h, true, tokens, false));
            }
            out.add(new LinearSpec(p + "intermediate.dense", h, b.intermediateSize(), true, tokens, false));
            out.add(new LinearSpec(p + "output.dense", b.intermediateSize(), h, true, tokens, false));
        }
        return out;
    }

    private static void norm(Map<String, long[]> s, String name, int d) {
        s.put(name + ".weight", new long[] {d});
        s.put(name + ".bias", new long[] {d});
    }

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
