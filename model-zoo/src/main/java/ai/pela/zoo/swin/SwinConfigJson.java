package ai.pela.zoo.swin;

import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.config.ModelConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes a Swin {@code config.json} in timm's vocabulary ({@code SwinTransformer}'s constructor fields).
 * As for the ViT ({@link ConfigJson}), the hub form names a preset in {@code architecture} and may carry a
 * {@code pretrained_cfg} ({@code input_size}, {@code mean}, {@code std}, {@code num_classes}); explicit fields, at the
 * top level or under {@code model_args}, override both. A PELA student adds the {@code lowrank} block. Errors name
 * the file and the field.
 */
public final class SwinConfigJson {
    private static final Logger LOG = LoggerFactory.getLogger(SwinConfigJson.class);
    /** timm's SwinTransformer fields this project reads. */
    private static final Set<String> FIELDS = Set.of("img_size", "patch_size", "in_chans", "embed_dim", "depths",
            "num_heads", "window_size", "mlp_ratio", "num_classes", "qkv_bias", "mean", "std");
    /** Accepted with their only supported value: timm writes them, and a different value would be a different model. */
    private static final Map<String, Object> FIXED = Map.of("global_pool", "avg", "ape", false, "patch_norm", true);

    private SwinConfigJson() {
    }

    /**
     * True when the JSON object describes a Swin: it names a Swin preset, or gives {@code depths} and
     * {@code window_size} (a ViT has a single {@code depth} and no windows).
     */
    public static boolean isSwin(ObjectNode root) {
        JsonNode arch = root.get("architecture");
        if (arch != null && arch.isTextual() && (SwinPresets.exists(arch.asText()) || arch.asText().equals("swin"))) {
            return true;
        }
        ObjectNode args = root.get("model_args") instanceof ObjectNode o ? o : null;
        return has(root, args, "depths") && has(root, args, "window_size");
    }

    private static boolean has(ObjectNode root, ObjectNode args, String field) {
        return root.has(field) || (args != null && args.has(field));
    }

    public static SwinConfig read(Path file) {
        return fromJson(ConfigJson.readObject(file), file.toString());
    }

    public static SwinConfig parse(String json, String source) {
        return fromJson(ConfigJson.readObject(
                new java.io.ByteArrayInputStream(json.getBytes(java.nio.charset.StandardCharsets.UTF_8)), source), source);
    }

    public static SwinConfig fromJson(ObjectNode root, String source) {
        String architecture = "swin";
        SwinConfig base = SwinPresets.get("swin_tiny_patch4_window7_224"); // timm's SwinTransformer defaults are Swin-T's
        if (root.has("architecture")) {
            architecture = ConfigJson.textValue(root.get("architecture"), "architecture", source);
            if (SwinPresets.exists(architecture)) {
                base = SwinPresets.get(architecture);
            } else if (!architecture.equals("swin")) {
                throw ModelConfig.fieldError(source, "architecture", "'" + architecture + "' is neither \"swin\" nor a "
                        + "Swin preset (" + String.join(", ", SwinPresets.names()) + ")");
            }
        }
        Map<String, JsonNode> fields = new LinkedHashMap<>();
        if (root.get("pretrained_cfg") instanceof ObjectNode pretrained) {
            ConfigJson.fromPretrainedCfg(pretrained, fields, source);
        }
        List<String> ignored = new ArrayList<>();
        collect(root, "", fields, ignored, source);
        if (root.get("model_args") instanceof ObjectNode args) {
            collect(args, "model_args.", fields, ignored, source);
        }
        if (!ignored.isEmpty()) {
            LOG.warn("{}: ignoring keys this project does not use: {}", source, ignored);
        }
        LowRankSpec lowrank = root.has("lowrank") ? ConfigJson.lowRank(root.get("lowrank"), source) : null;
        return merge(base, fields, architecture, lowrank, source).validate(source);
    }

    private static void collect(ObjectNode o, String prefix, Map<String, JsonNode> fields, List<String> ignored,
            String source) {
        o.fields().forEachRemaining(e -> {
            String k = e.getKey();
            if (FIELDS.contains(k)) {
                fields.put(k, e.getValue());
            } else if (FIXED.containsKey(k)) {
                checkFixed(prefix + k, e.getValue(), FIXED.get(k), source);
            } else if (!(prefix.isEmpty() && Set.of("architecture", "pretrained_cfg", "model_args", "lowrank").contains(k))) {
                ignored.add(prefix + k);
            }
        });
    }

    private static void checkFixed(String field, JsonNode v, Object only, String source) {
        boolean ok = only instanceof Boolean b ? v.isBoolean() && v.booleanValue() == b : v.isTextual() && v.asText().equals(only);
        if (!ok) {
            throw ModelConfig.fieldError(source, field, "only " + (only instanceof String ? "\"" + only + "\"" : only)
                    + " is supported (the official Swin), got " + v);
        }
    }

    private static SwinConfig merge(SwinConfig b, Map<String, JsonNode> f, String arch, LowRankSpec lowrank,
            String source) {
        return new SwinConfig(arch,
                f.containsKey("img_size") ? square(f.get("img_size"), "img_size", source) : b.imgSize(),
                f.containsKey("patch_size") ? square(f.get("patch_size"), "patch_size", source) : b.patchSize(),
                ConfigJson.intField(f, "in_chans", b.inChans(), source),
                ConfigJson.intField(f, "embed_dim", b.embedDim(), source),
                f.containsKey("depths") ? ints(f.get("depths"), "depths", source) : b.depths(),
                f.containsKey("num_heads") ? ints(f.get("num_heads"), "num_heads", source) : b.numHeads(),
                f.containsKey("window_size") ? square(f.get("window_size"), "window_size", source) : b.windowSize(),
                f.containsKey("mlp_ratio") ? ConfigJson.number(f.get("mlp_ratio"), "mlp_ratio", source) : b.mlpRatio(),
                ConfigJson.intField(f, "num_classes", b.numClasses(), source),
                ConfigJson.boolField(f, "qkv_bias", b.qkvBias(), source),
                f.containsKey("mean") ? ConfigJson.numbers(f.get("mean"), "mean", source) : b.mean(),
                f.containsKey("std") ? ConfigJson.numbers(f.get("std"), "std", source) : b.std(),
                lowrank);
    }

    /** An integer or a square [h, w] pair, as timm accepts for sizes. */
    private static int square(JsonNode v, String field, String source) {
        if (v.isArray()) {
            if (v.size() != 2 || !v.get(0).isIntegralNumber() || v.get(0).asInt() != v.get(1).asInt()) {
                throw ModelConfig.fieldError(source, field, "must be an integer or a square [h, w], got " + v);
            }
            return v.get(0).asInt();
        }
        return ConfigJson.intValue(v, field, source);
    }

    private static List<Integer> ints(JsonNode v, String field, String source) {
        if (!v.isArray()) {
            throw ModelConfig.fieldError(source, field, "must be a list of integers (one per stage), got " + v);
        }
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            out.add(ConfigJson.intValue(v.get(i), field + "[" + i + "]", source));
        }
        return out;
    }

    // ---- writing ----

    public static ObjectNode toJson(SwinConfig c) {
        ObjectNode n = ConfigJson.newObject();
        n.put("architecture", SwinPresets.exists(c.architecture()) ? c.architecture() : "swin"); // the fields override it
        n.put("img_size", c.imgSize());
        n.put("patch_size", c.patchSize());
        n.put("in_chans", c.inChans());
        n.put("embed_dim", c.embedDim());
        c.depths().forEach(n.putArray("depths")::add);
        c.numHeads().forEach(n.putArray("num_heads")::add);
        n.put("window_size", c.windowSize());
        n.put("mlp_ratio", c.mlpRatio());
        n.put("num_classes", c.numClasses());
        n.put("qkv_bias", c.qkvBias());
        c.mean().forEach(n.putArray("mean")::add);
        c.std().forEach(n.putArray("std")::add);
        if (c.lowrank() != null) {
            ConfigJson.putLowRank(n, c.lowrank());
        }
        return n;
    }

    public static String toJsonString(SwinConfig c) {
        return ConfigJson.toJsonString(toJson(c));
    }

    public static void write(SwinConfig c, Path file) {
        ai.pela.zoo.io.AtomicFile.writeString(file, toJsonString(c));
    }
}
