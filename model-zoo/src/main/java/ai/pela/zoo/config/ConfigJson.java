package ai.pela.zoo.config;

import ai.pela.zoo.PelaException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes a model's {@code config.json}.
 *
 * <p>Two forms are read. The hub form timm writes names a preset in {@code architecture} and carries
 * {@code num_classes}, {@code global_pool} and a {@code pretrained_cfg} with {@code input_size}, {@code mean},
 * {@code std}. The explicit form gives the architecture fields themselves (timm's defaults fill the rest).
 * Precedence, lowest first: preset, {@code pretrained_cfg}, explicit fields (top level or {@code model_args}).
 * Keys this project does not use are ignored with a warning; wrong types and inconsistent values fail naming
 * the field.
 */
public final class ConfigJson {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigJson.class);
    private static final long MAX_CONFIG_BYTES = 16L * 1024 * 1024;
    private static final ObjectMapper MAPPER = mapper();
    private static final Set<String> FIELDS = Set.of("img_size", "patch_size", "in_chans", "embed_dim", "depth",
            "num_heads", "mlp_ratio", "num_classes", "global_pool", "class_token", "qkv_bias", "init_values",
            "no_embed_class", "mean", "std");

    private ConfigJson() {
    }

    private static ObjectMapper mapper() {
        ObjectMapper m = new ObjectMapper();
        m.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
        m.enable(SerializationFeature.INDENT_OUTPUT);
        return m;
    }

    public static ModelConfig read(Path file) {
        return fromJson(readObject(file), file.toString());
    }

    /** A config file's JSON object, size-checked; failures name the file (shared by the model families' readers). */
    public static ObjectNode readObject(Path file) {
        try {
            if (Files.size(file) > MAX_CONFIG_BYTES) {
                throw new PelaException(file + ": config is larger than " + MAX_CONFIG_BYTES + " bytes");
            }
            try (InputStream in = Files.newInputStream(file)) {
                return readObject(in, file.toString());
            }
        } catch (java.nio.file.NoSuchFileException e) {
            throw new PelaException(file + ": config file does not exist");
        } catch (IOException e) {
            throw new PelaException(file + ": cannot read config: " + e.getMessage(), e);
        }
    }

    public static ModelConfig read(InputStream in, String source) {
        return fromJson(readObject(in, source), source);
    }

    public static ObjectNode readObject(InputStream in, String source) {
        JsonNode root;
        try {
            root = MAPPER.readTree(in.readNBytes((int) MAX_CONFIG_BYTES + 1));
        } catch (JsonProcessingException e) {
            throw new PelaException(source + ": not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new PelaException(source + ": cannot read config: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new PelaException(source + ": config must be a JSON object");
        }
        return (ObjectNode) root;
    }

    public static ModelConfig parse(String json, String source) {
        return read(new java.io.ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), source);
    }

    /** A ViT config from its JSON object (the hub or the explicit form); errors name {@code source} and the field. */
    public static ModelConfig fromJson(ObjectNode root, String source) {
        Map<String, JsonNode> fields = new LinkedHashMap<>();
        String architecture = root.has("architecture") ? text(root, "architecture", source) : null;
        ModelConfig base = architecture != null ? presetFor(architecture, source) : timmDefaults();

        JsonNode pretrained = root.get("pretrained_cfg");
        if (pretrained != null && pretrained.isObject()) {
            fromPretrainedCfg(pretrained, fields, source);
        }
        List<String> ignored = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String k = e.getKey();
            if (FIELDS.contains(k)) {
                fields.put(k, e.getValue());
            } else if (k.equals("model_args") && e.getValue().isObject()) {
                e.getValue().fields().forEachRemaining(a -> {
                    if (FIELDS.contains(a.getKey())) {
                        fields.put(a.getKey(), a.getValue());
                    } else {
                        ignored.add("model_args." + a.getKey());
                    }
                });
            } else if (!k.equals("architecture") && !k.equals("pretrained_cfg") && !k.equals("lowrank")) {
                ignored.add(k);
            }
        }
        if (!ignored.isEmpty()) {
            LOG.warn("{}: ignoring keys this project does not use: {}", source, ignored);
        }
        LowRankSpec lowrank = root.has("lowrank") ? lowRank(root.get("lowrank"), source) : null;
        return merge(base, fields, lowrank, architecture != null ? architecture : "vit", source).validate(source);
    }

    private static ModelConfig presetFor(String architecture, String source) {
        try {
            return Presets.get(architecture);
        } catch (PelaException e) {
            throw new PelaException(source + ": field 'architecture': " + e.getMessage());
        }
    }

    /** timm's VisionTransformer constructor defaults. */
    private static ModelConfig timmDefaults() {
        return new ModelConfig("vit", 224, 16, 3, 768, 12, 12, 4.0, 1000, "token", true, true, null, false,
                ModelConfig.IMAGENET_MEAN, ModelConfig.IMAGENET_STD, null);
    }

    /**
     * The fields timm's {@code pretrained_cfg} implies (input size, mean, std, classes) into {@code fields}, where
     * the explicit fields read after them override; shared by every family's config.json reader.
     */
    public static void fromPretrainedCfg(JsonNode cfg, Map<String, JsonNode> fields, String source) {
        JsonNode inputSize = cfg.get("input_size");
        if (inputSize != null && !inputSize.isNull()) {
            if (!inputSize.isArray() || inputSize.size() != 3 || !allInts(inputSize)) {
                throw ModelConfig.fieldError(source, "pretrained_cfg.input_size", "must be [channels, height, width]");
            }
            if (inputSize.get(1).asInt() != inputSize.get(2).asInt()) {
                throw ModelConfig.fieldError(source, "pretrained_cfg.input_size", "must be square, got " + inputSize);
            }
            fields.put("in_chans", inputSize.get(0));
            fields.put("img_size", inputSize.get(1));
        }
        for (String k : List.of("mean", "std", "num_classes")) {
            if (cfg.has(k) && !cfg.get(k).isNull()) {
                fields.put(k, cfg.get(k));
            }
        }
    }

    private static ModelConfig merge(ModelConfig b, Map<String, JsonNode> f, LowRankSpec lowrank, String arch,
            String source) {
        return new ModelConfig(arch,
                f.containsKey("img_size") ? imgSize(f.get("img_size"), source) : b.imgSize(),
                intField(f, "patch_size", b.patchSize(), source),
                intField(f, "in_chans", b.inChans(), source),
                intField(f, "embed_dim", b.embedDim(), source),
                intField(f, "depth", b.depth(), source),
                intField(f, "num_heads", b.numHeads(), source),
                f.containsKey("mlp_ratio") ? number(f.get("mlp_ratio"), "mlp_ratio", source) : b.mlpRatio(),
                intField(f, "num_classes", b.numClasses(), source),
                f.containsKey("global_pool") ? textValue(f.get("global_pool"), "global_pool", source) : b.globalPool(),
                boolField(f, "class_token", b.classToken(), source),
                boolField(f, "qkv_bias", b.qkvBias(), source),
                f.containsKey("init_values") ? nullableNumber(f.get("init_values"), "init_values", source) : b.initValues(),
                boolField(f, "no_embed_class", b.noEmbedClass(), source),
                f.containsKey("mean") ? numbers(f.get("mean"), "mean", source) : b.mean(),
                f.containsKey("std") ? numbers(f.get("std"), "std", source) : b.std(),
                lowrank);
    }

    /** The {@code "lowrank"} block of a student's config. */
    public static LowRankSpec lowRank(JsonNode node, String source) {
        if (!node.isObject()) {
            throw ModelConfig.fieldError(source, "lowrank", "must be an object");
        }
        double kappa = number(node.get("kappa"), "lowrank.kappa", source);
        List<String> omit = new ArrayList<>();
        JsonNode o = node.get("omit");
        if (o != null) {
            if (!o.isArray()) {
                throw ModelConfig.fieldError(source, "lowrank.omit", "must be a list of strings");
            }
            o.forEach(s -> omit.add(textValue(s, "lowrank.omit", source)));
        }
        Map<String, Integer> ranks = new LinkedHashMap<>();
        JsonNode r = node.get("ranks");
        if (r == null || !r.isObject()) {
            throw ModelConfig.fieldError(source, "lowrank.ranks", "must be an object mapping Linear names to ranks");
        }
        r.fields().forEachRemaining(e -> {
            int rank = intValue(e.getValue(), "lowrank.ranks." + e.getKey(), source);
            if (rank < 1) {
                throw ModelConfig.fieldError(source, "lowrank.ranks." + e.getKey(), "must be >= 1, got " + rank);
            }
            ranks.put(e.getKey(), rank);
        });
        return new LowRankSpec(kappa, omit, ranks);
    }

    // ---- writing ----

    public static ObjectNode toJson(ModelConfig c) {
        ObjectNode n = MAPPER.createObjectNode();
        if (Presets.exists(c.architecture())) {
            n.put("architecture", c.architecture()); // explicit fields below still override, so this is informative
        }
        n.put("img_size", c.imgSize());
        n.put("patch_size", c.patchSize());
        n.put("in_chans", c.inChans());
        n.put("embed_dim", c.embedDim());
        n.put("depth", c.depth());
        n.put("num_heads", c.numHeads());
        n.put("mlp_ratio", c.mlpRatio());
        n.put("num_classes", c.numClasses());
        n.put("global_pool", c.globalPool());
        n.put("class_token", c.classToken());
        n.put("qkv_bias", c.qkvBias());
        if (c.initValues() != null) {
            n.put("init_values", c.initValues());
        }
        n.put("no_embed_class", c.noEmbedClass());
        c.mean().forEach(n.putArray("mean")::add);
        c.std().forEach(n.putArray("std")::add);
        if (c.lowrank() != null) {
            putLowRank(n, c.lowrank());
        }
        return n;
    }

    /** Writes {@code spec} as the {@code "lowrank"} field of {@code n}. */
    public static void putLowRank(ObjectNode n, LowRankSpec spec) {
        ObjectNode lr = n.putObject("lowrank");
        lr.put("kappa", spec.kappa());
        ArrayNode omit = lr.putArray("omit");
        spec.omit().forEach(omit::add);
        ObjectNode ranks = lr.putObject("ranks");
        spec.ranks().forEach(ranks::put);
    }

    public static String toJsonString(ModelConfig c) {
        return toJsonString(toJson(c));
    }

    /** Indented JSON with a final newline, as every config.json this project writes. */
    public static String toJsonString(ObjectNode n) {
        try {
            return MAPPER.writeValueAsString(n) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static ObjectNode newObject() {
        return MAPPER.createObjectNode();
    }

    public static void write(ModelConfig c, Path file) {
        ai.pela.zoo.io.AtomicFile.writeString(file, toJsonString(c));
    }

    // ---- typed field access, each error naming the field ----

    public static int intField(Map<String, JsonNode> f, String k, int dflt, String source) {
        return f.containsKey(k) ? intValue(f.get(k), k, source) : dflt;
    }

    public static boolean boolField(Map<String, JsonNode> f, String k, boolean dflt, String source) {
        if (!f.containsKey(k)) {
            return dflt;
        }
        JsonNode v = f.get(k);
        if (!v.isBoolean()) {
            throw ModelConfig.fieldError(source, k, "must be true or false, got " + v);
        }
        return v.booleanValue();
    }

    private static int imgSize(JsonNode v, String source) {
        if (v.isArray()) {
            if (v.size() != 2 || !allInts(v) || v.get(0).asInt() != v.get(1).asInt()) {
                throw ModelConfig.fieldError(source, "img_size", "must be an integer or a square [h, w], got " + v);
            }
            return v.get(0).asInt();
        }
        return intValue(v, "img_size", source);
    }

    public static int intValue(JsonNode v, String field, String source) {
        if (v == null || !v.canConvertToInt() || !(v.isIntegralNumber() || (v.isNumber() && v.asDouble() == Math.rint(v.asDouble())))) {
            throw ModelConfig.fieldError(source, field, "must be an integer, got " + v);
        }
        return v.asInt();
    }

    public static double number(JsonNode v, String field, String source) {
        if (v == null || !v.isNumber()) {
            throw ModelConfig.fieldError(source, field, "must be a number, got " + (v == null ? "nothing" : v));
        }
        return v.asDouble();
    }

    private static Double nullableNumber(JsonNode v, String field, String source) {
        return v.isNull() ? null : number(v, field, source);
    }

    public static List<Double> numbers(JsonNode v, String field, String source) {
        if (!v.isArray()) {
            throw ModelConfig.fieldError(source, field, "must be a list of numbers, got " + v);
        }
        List<Double> out = new ArrayList<>();
        v.forEach(x -> out.add(number(x, field, source)));
        return out;
    }

    private static String text(JsonNode root, String field, String source) {
        return textValue(root.get(field), field, source);
    }

    public static String textValue(JsonNode v, String field, String source) {
        if (v == null || !v.isTextual()) {
            throw ModelConfig.fieldError(source, field, "must be a string, got " + v);
        }
        return v.asText();
    }

    private static boolean allInts(JsonNode arr) {
        for (JsonNode x : arr) {
            if (!x.isIntegralNumber()) {
                return false;
            }
        }
        return true;
    }
}
