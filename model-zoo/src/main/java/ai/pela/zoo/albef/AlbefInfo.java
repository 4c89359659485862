package ai.pela.zoo.albef;

import ai.pela.zoo.info.ModelInfo;
import ai.pela.zoo.vit.LinearSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Parameters and FLOPs of ALBEF, per layer and in total, in {@link ModelInfo}'s conventions (FLOPs = 2 ×
 * multiply-adds at batch 1; {@code gflopsLinear} without the attention matmuls). The forward counted is one
 * image-caption pair through every layer once: the image encoder on the image, the text and fusion layers on the
 * caption's tokens (cross-attention over the image tokens), the MLM head on every caption token, the projections
 * and the ITM head on one token. Parameters count every tensor once; the MLM decoder's weight is the word-embedding
 * matrix, so its row shows no parameters of its own.
 */
public final class AlbefInfo {
    /** ALBEF's longest captions (its retrieval and pre-training tokenisers cut at 30 / 25 tokens). */
    public static final int DEFAULT_TEXT_TOKENS = 30;

    private AlbefInfo() {
    }

    public static ModelInfo.Summary of(AlbefConfig c, int textTokens) {
        int imageTokens = c.vision().numTokens();
        int h = c.text().hiddenSize();
        List<ModelInfo.Layer> layers = new ArrayList<>();
        for (LinearSpec l : AlbefLayout.linears(c, textTokens)) {
            String name = l.name();
            if (name.equals(AlbefLayout.PREDICTIONS + "decoder")) {
                layers.add(new ModelInfo.Layer(name, "tied", 0, l.macs(), 0));
                continue;
            }
            layers.add(ModelInfo.linear(l, c.lowrank()));
            if (name.endsWith("attn.proj")) {
                layers.add(ModelInfo.attention(name.replace("attn.proj", "attn.matmul"), imageTokens, imageTokens,
                        c.vision().embedDim()));
            } else if (name.endsWith("crossattention.output.dense")) {
                layers.add(ModelInfo.attention(name.replace("output.dense", "matmul"), textTokens, imageTokens, h));
            } else if (name.endsWith(".attention.output.dense")) {
                layers.add(ModelInfo.attention(name.replace("output.dense", "matmul"), textTokens, textTokens, h));
            }
        }
        long params = AlbefLayout.parameterShapes(c).values().stream().mapToLong(ModelInfo::numel).sum();
        return ModelInfo.summary(layers, params);
    }
}
