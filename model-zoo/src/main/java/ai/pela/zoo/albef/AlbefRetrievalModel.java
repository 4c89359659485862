package ai.pela.zoo.albef;

import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.text.TokenBatch;
import ai.pela.zoo.vit.VitGraph;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * ALBEF's retrieval evaluation model (Retrieval.py {@code evaluation}): three inference graphs sharing one set of
 * constant weights, so images, captions and pairs can be computed where and when each is needed.
 * <ul>
 *   <li>images → {@code image_embeds} [N, T, D] (the ViT's normed tokens) and {@code image_feat} [N, E]
 *       (vision_proj of the class token, L2-normalised);</li>
 *   <li>captions → {@code text_embeds} [N, L, H] (text layers 0..F−1) and {@code text_feat} [N, E];</li>
 *   <li>pairs (image_embeds, text_embeds, mask) → the ITM score: the fusion layers with cross-attention to the
 *       image, then {@code itm_head} on the class token, logit of class 1 (ALBEF's score, not a probability).</li>
 * </ul>
 * ITC similarity is the plain dot product of the normalised features (no temperature), as ALBEF ranks with it.
 */
public final class AlbefRetrievalModel {
    private static final String IMAGE_EMBEDS = "image_embeds";
    private static final String TEXT_EMBEDS = "text_embeds";
    private static final String FUSION_IMAGE = "fusion.image";
    private static final String FUSION_TEXT = "fusion.text";
    private static final String ITM_SCORE = "itm_score";

    /** Features [N, E] (unit rows) and the token embeddings the fusion layers read. */
    public record Encoded(INDArray feat, INDArray embeds) {
    }

    private final AlbefConfig config;
    private final int textLength;
    private final INDArray wordTable;
    private final SameDiff imageGraph = SameDiff.create();
    private final SameDiff textGraph = SameDiff.create();
    private final SameDiff fusionGraph = SameDiff.create();

    private AlbefRetrievalModel(AlbefConfig config, StateDict weights, int textLength) {
        this.config = config;
        this.textLength = textLength;
        this.wordTable = weights.get(AlbefLayout.WORD_EMBEDDINGS).castTo(DataType.FLOAT);
        buildImage(weights);
        buildText(weights);
        buildFusion(weights);
    }

    /** @param weights in this project's layout (checked here); textLength: the caption length of every batch */
    public static AlbefRetrievalModel create(AlbefConfig config, StateDict weights, int textLength, String source) {
        weights.checkMatches(source, AlbefLayout.parameterShapes(config));
        return new AlbefRetrievalModel(config, weights, textLength);
    }

    public AlbefConfig config() {
        return config;
    }

    public int textLength() {
        return textLength;
    }

    /** Images [N, C, H, W], normalised as the model was trained. */
    public Encoded images(INDArray images) {
        Map<String, INDArray> out = imageGraph.output(Map.of(VitGraph.INPUT, images),
                List.of(AlbefGraph.IMAGE_FEAT, IMAGE_EMBEDS));
        return new Encoded(out.get(AlbefGraph.IMAGE_FEAT), out.get(IMAGE_EMBEDS));
    }

    /** Captions tokenised and padded to {@link #textLength()}. */
    public Encoded texts(TokenBatch batch) {
        Map<String, INDArray> out = textGraph.output(TextEncoder.placeholders(batch, wordTable, textLength),
                List.of(AlbefGraph.TEXT_FEAT, TEXT_EMBEDS));
        return new Encoded(out.get(AlbefGraph.TEXT_FEAT), out.get(TEXT_EMBEDS));
    }

    /**
     * ITM scores [K] of K pairs: row k of {@code imageEmbeds} [K, T, D] with row k of {@code textEmbeds} [K, L, H]
     * under its attention mask [K, L].
     */
    public INDArray itmScores(INDArray imageEmbeds, INDArray textEmbeds, INDArray mask) {
        return fusionGraph.output(Map.of(FUSION_IMAGE, imageEmbeds, FUSION_TEXT, textEmbeds,
                TextEncoder.ATTENTION_MASK, mask), List.of(ITM_SCORE)).get(ITM_SCORE);
    }

    private void buildImage(StateDict weights) {
        StateDict vision = new StateDict();
        weights.asMap().forEach((k, a) -> {
            if (k.startsWith(AlbefLayout.VISUAL)) {
                vision.put(k.substring(AlbefLayout.VISUAL.length()), a);
            }
        });
        VitGraph.Handles vit = VitGraph.build(imageGraph, config.visionConfig(), vision, false, null, AlbefLayout.VISUAL);
        SDVariable tokens = imageGraph.identity(IMAGE_EMBEDS, vit.tokens());
        GraphParams p = new GraphParams(imageGraph, weights, false, config.lowrank());
        normalize(imageGraph, AlbefGraph.IMAGE_FEAT,
                p.linear(cls(imageGraph, tokens, config.vision().embedDim()), AlbefLayout.VISION_PROJ));
    }

    private void buildText(StateDict weights) {
        BertConfig b = config.text();
        GraphParams p = new GraphParams(textGraph, weights, false, config.lowrank());
        BertGraph bert = new BertGraph(textGraph, p, b, textLength);
        SDVariable words = textGraph.placeHolder(TextEncoder.WORDS, DataType.FLOAT, -1, textLength, b.hiddenSize());
        SDVariable mask = textGraph.placeHolder(TextEncoder.ATTENTION_MASK, DataType.FLOAT, -1, textLength);
        SDVariable x = bert.layers(bert.embed(words), bert.extendedMask(mask), null, 0, b.textLayers(), null, null);
        SDVariable embeds = textGraph.reshape(TEXT_EMBEDS, x, -1, textLength, b.hiddenSize());
        normalize(textGraph, AlbefGraph.TEXT_FEAT, p.linear(cls(textGraph, embeds, b.hiddenSize()), AlbefLayout.TEXT_PROJ));
    }

    private void buildFusion(StateDict weights) {
        BertConfig b = config.text();
        int t = config.vision().numTokens();
        int d = config.vision().embedDim();
        GraphParams p = new GraphParams(fusionGraph, weights, false, config.lowrank());
        BertGraph bert = new BertGraph(fusionGraph, p, b, textLength);
        SDVariable image = fusionGraph.placeHolder(FUSION_IMAGE, DataType.FLOAT, -1, t, d);
        SDVariable text = fusionGraph.placeHolder(FUSION_TEXT, DataType.FLOAT, -1, textLength, b.hiddenSize());
        SDVariable mask = fusionGraph.placeHolder(TextEncoder.ATTENTION_MASK, DataType.FLOAT, -1, textLength);
        List<BertGraph.KeysValues> kv = bert.imageKeysValues(fusionGraph.reshape(image, -1, d), t);
        SDVariable fused = bert.layers(fusionGraph.reshape(text, -1, b.hiddenSize()), bert.extendedMask(mask), kv,
                b.fusionLayer(), b.numHiddenLayers(), null, null);
        SDVariable logits = p.linear(cls(fusionGraph, fusionGraph.reshape(fused, -1, textLength, b.hiddenSize()),
                b.hiddenSize()), AlbefLayout.ITM_HEAD);
        fusionGraph.reshape(ITM_SCORE, logits.get(SDIndex.all(), SDIndex.point(1)), -1);
    }

    private static SDVariable cls(SameDiff sd, SDVariable tokens, int width) {
        return sd.reshape(tokens.get(SDIndex.all(), SDIndex.point(0), SDIndex.all()), -1, width);
    }

    private static SDVariable normalize(SameDiff sd, String name, SDVariable x) {
        return x.div(sd.math().sqrt(x.mul(x).sum(true, 1))).rename(name);
    }
}
