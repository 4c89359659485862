package ai.pela.zoo.albef;

import ai.pela.zoo.config.ModelConfig;

/**
 * ALBEF's text side in the vocabulary of its {@code configs/config_bert.json} (a HuggingFace BertConfig plus
 * ALBEF's {@code fusion_layer} and {@code encoder_width}). Layers {@code 0 .. fusion_layer-1} encode the text alone;
 * layers {@code fusion_layer .. num_hidden_layers-1} add cross-attention to the {@code encoder_width}-wide image
 * tokens. The activation is always the exact erf GELU (HF's {@code "gelu"}).
 */
public record BertConfig(
        int vocabSize,
        int hiddenSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int intermediateSize,
        int maxPositionEmbeddings,
        int typeVocabSize,
        double layerNormEps,
        int padTokenId,
        int fusionLayer,
        int encoderWidth) implements java.io.Serializable {

    /** ALBEF's config_bert.json: BERT-base, uncased vocabulary, fusion from layer 6 on ViT-B's 768-wide tokens. */
    public static BertConfig albefBase() {
        return new BertConfig(30522, 768, 12, 12, 3072, 512, 2, 1e-12, 0, 6, 768);
    }

    public BertConfig validate(String source) {
        positive(source, "vocab_size", vocabSize);
        positive(source, "hidden_size", hiddenSize);
        positive(source, "num_hidden_layers", numHiddenLayers);
        positive(source, "num_attention_heads", numAttentionHeads);
        positive(source, "intermediate_size", intermediateSize);
        positive(source, "max_position_embeddings", maxPositionEmbeddings);
        positive(source, "type_vocab_size", typeVocabSize);
        positive(source, "encoder_width", encoderWidth);
        if (hiddenSize % numAttentionHeads != 0) {
            throw error(source, "hidden_size", hiddenSize + " is not divisible by num_attention_heads " + numAttentionHeads);
        }
        if (fusionLayer < 0 || fusionLayer > numHiddenLayers) {
            throw error(source, "fusion_layer", "must be in [0, num_hidden_layers = " + numHiddenLayers + "], got " + fusionLayer);
        }
        if (padTokenId < 0 || padTokenId >= vocabSize) {
            throw error(source, "pad_token_id", "must be a token of the vocabulary [0, " + vocabSize + "), got " + padTokenId);
        }
        if (!(layerNormEps > 0)) {
            throw error(source, "layer_norm_eps", "must be > 0, got " + layerNormEps);
        }
        return this;
    }

    private static void positive(String source, String field, int value) {
        if (value <= 0) {
            throw error(source, field, "must be a positive integer, got " + value);
        }
    }

    private static ai.pela.zoo.PelaException error(String source, String field, String problem) {
        return ModelConfig.fieldError(source, "bert_config." + field, problem);
    }

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /** Layers of the text encoder (ALBEF's mode 'text'). */
    public int textLayers() {
        return fusionLayer;
    }

    /** Layers of the fusion encoder (ALBEF's mode 'fusion'), each with cross-attention. */
    public int fusionLayers() {
        return numHiddenLayers - fusionLayer;
    }

    public boolean hasCrossAttention(int layer) {
        return layer >= fusionLayer;
    }
}
