package ai.pela.zoo.albef;

import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.config.ModelConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes an ALBEF {@code config.json}:
 * <pre>
 * {"architecture": "albef_base",   optional: a preset whose values the fields override ("albef": albef_base's)
 *  "vision": {timm ViT fields: img_size, patch_size, embed_dim, depth, num_heads, mlp_ratio, qkv_bias, mean, std},
 *  "bert_config": {ALBEF's configs/config_bert.json: vocab_size, hidden_size, num_hidden_layers, ...,
 *                  fusion_layer, encoder_width},
 *  "embed_dim": 256, "temp": 0.07,
 *  "lowrank": {"kappa": 3, "omit": ["cls", "_proj"], "ranks": {...}}}     a PELA student only
 * </pre>
 * {@code bert_config} takes ALBEF's file as it is: keys this project does not use (dropout rates, initializer
 * range, model_type, ...) are ignored with a warning. Errors name the file and the field.
 */
public final class AlbefConfigJson {
    private static final Logger LOG = LoggerFactory.getLogger(AlbefConfigJson.class);
    private static final Set<String> TOP = Set.of("architecture", "vision", "bert_config", "embed_dim", "temp", "lowrank");
    private static final Set<String> BERT_FIELDS = Set.of("vocab_size", "hidden_size", "num_hidden_layers",
            "num_attention_heads", "intermediate_size", "hidden_act", "max_position_embeddings", "type_vocab_size",
            "layer_norm_eps", "pad_token_id", "fusion_layer", "encoder_width");

    private AlbefConfigJson() {
    }

    /** True when the JSON object is an ALBEF config (it names an ALBEF preset or has a {@code bert_config}). */
    public static boolean isAlbef(ObjectNode root) {
        JsonNode arch = root.get("architecture");
        return root.has("bert_config") || (arch != null && arch.isTextual() && AlbefPresets.exists(arch.asText()));
    }

    public static AlbefConfig read(Path file) {
        return fromJson(ConfigJson.readObject(file), file.toString());
    }

    public static AlbefConfig parse(String json, String source) {
        return fromJson(ConfigJson.readObject(
                new java.io.ByteArrayInputStream(json.getBytes(java.nio.charset.StandardCharsets.UTF_8)), source), source);
    }

    public static AlbefConfig fromJson(ObjectNode root, String source) {
        AlbefConfig base = AlbefPresets.get("albef_base");
        String architecture = "albef";
        if (root.has("architecture")) {
            architecture = ConfigJson.textValue(root.get("architecture"), "architecture", source);
            if (AlbefPresets.exists(architecture)) {
                base = AlbefPresets.get(architecture);
            } else if (!architecture.equals("albef")) {
                throw ModelConfig.fieldError(source, "architecture", "'" + architecture + "' is neither \"albef\" nor an "
                        + "ALBEF preset (" + String.join(", ", AlbefPresets.names()) + ")");
            }
        }
        warnIgnored(root, TOP, "", source);
        ModelConfig vision = root.has("vision") ? vision(root.get("vision"), base.vision(), source) : base.vision();
        BertConfig text = root.has("bert_config") ? bert(root.get("bert_config"), base.text(), source) : base.text();
        int embedDim = root.has("embed_dim") ? ConfigJson.intValue(root.get("embed_dim"), "embed_dim", source) : base.embedDim();
        double temp = root.has("temp") ? ConfigJson.number(root.get("temp"), "temp", source) : base.temp();
        LowRankSpec lowrank = root.has("lowrank") ? ConfigJson.lowRank(root.get("lowrank"), source) : null;
        return new AlbefConfig(architecture, vision, text, embedDim, temp, lowrank).validate(source);
    }

    /** The image encoder: timm's fields over the preset's; always without a head. */
    private static ModelConfig vision(JsonNode node, ModelConfig base, String source) {
        if (!node.isObject()) {
            throw ModelConfig.fieldError(source, "vision", "must be an object of timm ViT fields");
        }
        JsonNode classes = node.get("num_classes");
        if (classes != null && !(classes.isIntegralNumber() && classes.asInt() == 0)) {
            throw ModelConfig.fieldError(source, "vision.num_classes", "must be 0 or absent: ALBEF's image encoder has no head");
        }
        ObjectNode merged = ConfigJson.toJson(base);
        merged.remove("architecture");
        node.fields().forEachRemaining(e -> merged.set(e.getKey(), e.getValue()));
        merged.put("num_classes", 0);
        return ConfigJson.fromJson(merged, source + " (vision)");
    }

    private static BertConfig bert(JsonNode node, BertConfig b, String source) {
        if (!node.isObject()) {
            throw ModelConfig.fieldError(source, "bert_config", "must be an object (ALBEF's config_bert.json)");
        }
        ObjectNode o = (ObjectNode) node;
        warnIgnored(o, BERT_FIELDS, "bert_config.", source);
        if (o.has("hidden_act")) {
            String act = ConfigJson.textValue(o.get("hidden_act"), "bert_config.hidden_act", source);
            if (!act.equals("gelu")) {
                throw ModelConfig.fieldError(source, "bert_config.hidden_act", "must be \"gelu\" (the exact erf GELU), got \"" + act + "\"");
            }
        }
        return new BertConfig(
                intField(o, "vocab_size", b.vocabSize(), source),
                intField(o, "hidden_size", b.hiddenSize(), source),
                intField(o, "num_hidden_layers", b.numHiddenLayers(), source),
                intField(o, "num_attention_heads", b.numAttentionHeads(), source),
                intField(o, "intermediate_size", b.intermediateSize(), source),
                intField(o, "max_position_embeddings", b.maxPositionEmbeddings(), source),
                intField(o, "type_vocab_size", b.typeVocabSize(), source),
                o.has("layer_norm_eps") ? ConfigJson.number(o.get("layer_norm_eps"), "bert_config.layer_norm_eps", source) : b.layerNormEps(),
                intField(o, "pad_token_id", b.padTokenId(), source),
                intField(o, "fusion_layer", b.fusionLayer(), source),
                intField(o, "encoder_width", b.encoderWidth(), source));
    }

    private static int intField(ObjectNode o, String k, int dflt, String source) {
        return o.has(k) ? ConfigJson.intValue(o.get(k), "bert_config." + k, source) : dflt;
    }

    private static void warnIgnored(ObjectNode o, Set<String> known, String prefix, String source) {
        List<String> ignored = new ArrayList<>();
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k)) {
                ignored.add(prefix + k);
            }
        }
        if (!ignored.isEmpty()) {
            LOG.warn("{}: ignoring keys this project does not use: {}", source, ignored);
        }
    }

    public static ObjectNode toJson(AlbefConfig c) {
        ObjectNode n = ConfigJson.newObject();
        if (AlbefPresets.exists(c.architecture())) {
            n.put("architecture", c.architecture()); // informative: the explicit fields below override it
        }
        ObjectNode vision = ConfigJson.toJson(c.vision());
        vision.remove("architecture");
        n.set("vision", vision);
        BertConfig b = c.text();
        ObjectNode t = n.putObject("bert_config");
        t.put("vocab_size", b.vocabSize());
        t.put("hidden_size", b.hiddenSize());
        t.put("num_hidden_layers", b.numHiddenLayers());
        t.put("num_attention_heads", b.numAttentionHeads());
        t.put("intermediate_size", b.intermediateSize());
        t.put("hidden_act", "gelu");
        t.put("max_position_embeddings", b.maxPositionEmbeddings());
        t.put("type_vocab_size", b.typeVocabSize());
        t.put("layer_norm_eps", b.layerNormEps());
        t.put("pad_token_id", b.padTokenId());
        t.put("fusion_layer", b.fusionLayer());
        t.put("encoder_width", b.encoderWidth());
        n.put("embed_dim", c.embedDim());
        n.put("temp", c.temp());
        if (c.lowrank() != null) {
            ConfigJson.putLowRank(n, c.lowrank());
        }
        return n;
    }

    public static void write(AlbefConfig c, Path file) {
        ai.pela.zoo.io.AtomicFile.writeString(file, ConfigJson.toJsonString(toJson(c)));
    }
}
