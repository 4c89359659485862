package ai.pela.zoo.albef;

import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.config.ModelConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * ALBEF's architecture: the image encoder (a timm ViT without head), the BERT text and fusion encoder, the
 * contrastive projections to {@code embedDim} and the learnable temperature's initial value, plus the low-rank
 * block of a PELA student. Low-rank entries are keyed by the Linear's full checkpoint name
 * ({@code visual_encoder.blocks.0.attn.qkv}, {@code text_encoder.bert.encoder.layer.6.crossattention.self.key}).
 *
 * @param architecture the preset name this config started from, or {@code "albef"}
 * @param vision       the image encoder; its {@code numClasses} is 0 and its own lowrank is null (see {@link #visionConfig})
 * @param temp         the temperature ALBEF starts from (0.07); the checkpoint's {@code temp} holds the trained value
 */
public record AlbefConfig(String architecture, ModelConfig vision, BertConfig text, int embedDim, double temp,
        LowRankSpec lowrank) implements java.io.Serializable {

    /** The temperature is clamped to this range before every forward, as ALBEF does in place. */
    public static final double TEMP_MIN = 0.001;
    public static final double TEMP_MAX = 0.5;

    public AlbefConfig validate(String source) {
        vision.validate(source);
        if (vision.hasHead() || vision.lowrank() != null) {
            throw ModelConfig.fieldError(source, "vision", "ALBEF's image encoder has no head and no lowrank block of its own");
        }
        if (!vision.classToken() || !vision.globalPool().equals("token")) {
            throw ModelConfig.fieldError(source, "vision.class_token", "ALBEF's image features are the class token's");
        }
        text.validate(source);
        if (text.encoderWidth() != vision.embedDim()) {
            throw ModelConfig.fieldError(source, "bert_config.encoder_width", "must equal the image encoder's embed_dim "
                    + vision.embedDim() + ", got " + text.encoderWidth());
        }
        if (embedDim <= 0) {
            throw ModelConfig.fieldError(source, "embed_dim", "must be a positive integer, got " + embedDim);
        }
        if (!(temp >= TEMP_MIN && temp <= TEMP_MAX)) {
            throw ModelConfig.fieldError(source, "temp", "must be in [" + TEMP_MIN + ", " + TEMP_MAX + "], got " + temp);
        }
        if (lowrank != null && !(lowrank.kappa() > 0)) {
            throw ModelConfig.fieldError(source, "lowrank.kappa", "must be > 0, got " + lowrank.kappa());
        }
        return this;
    }

    /** The image encoder as VitGraph builds it: its share of the low-rank block, with the prefix taken off. */
    public ModelConfig visionConfig() {
        if (lowrank == null) {
            return vision;
        }
        Map<String, Integer> ranks = new LinkedHashMap<>();
        lowrank.ranks().forEach((name, r) -> {
            if (name.startsWith(AlbefLayout.VISUAL)) {
                ranks.put(name.substring(AlbefLayout.VISUAL.length()), r);
            }
        });
        return vision.withLowRank(new LowRankSpec(lowrank.kappa(), lowrank.omit(), ranks));
    }

    public AlbefConfig withLowRank(LowRankSpec spec) {
        return new AlbefConfig(architecture, vision, text, embedDim, temp, spec);
    }

    public boolean isDecomposed(String linear) {
        return lowrank != null && lowrank.isDecomposed(linear);
    }
}
