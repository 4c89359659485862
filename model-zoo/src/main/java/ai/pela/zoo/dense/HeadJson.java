package ai.pela.zoo.dense;

import ai.pela.zoo.PelaException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * {@code head.json}: a dense head's architecture next to the backbone's {@code config.json} in a model directory.
 * Unlike config.json (which has to accept timm's files), this format is the project's own, so every field is
 * required (except {@code class_names} and {@code category_ids}) and an unknown field is an error.
 *
 * <pre>
 * {"type": "upernet", "img_size": 512, "out_indices": [2, 5, 8, 11], "final_norm": true, "neck_channels": 768,
 *  "neck_scales": [4, 2, 1, 0.5], "channels": 512, "pool_scales": [1, 2, 3, 6], "num_classes": 150, "gn_groups": 32}
 * {"type": "fcos", "img_size": 1024, "out_index": 11, "sfp_scales": [4, 2, 1, 0.5], "channels": 256,
 *  "stacked_convs": 4, "num_classes": 80, "gn_groups": 32, "regress_ranges": [[-1, 32], …],
 *  "center_sample_radius": 1.5, "focal_alpha": 0.25, "focal_gamma": 2.0, "score_thr": 0.05, "nms_pre": 1000,
 *  "nms_iou": 0.5, "max_per_img": 100, "category_ids": [1, 2, …]}
 * </pre>
 */
public final class HeadJson {
    public static final String FILE = "head.json";
    private static final int MAX_BYTES = 1 << 20;
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Set<String> UPERNET = Set.of("type", "img_size", "out_indices", "final_norm", "neck_channels",
            "neck_scales", "channels", "pool_scales", "num_classes", "gn_groups", "class_names");
    private static final Set<String> FCOS = Set.of("type", "img_size", "out_index", "sfp_scales", "channels",
            "stacked_convs", "num_classes", "gn_groups", "regress_ranges", "center_sample_radius", "focal_alpha",
            "focal_gamma", "score_thr", "nms_pre", "nms_iou", "max_per_img", "category_ids");
    private static final Set<Double> SFP_SCALES = Set.of(4.0, 2.0, 1.0, 0.5);

    private HeadJson() {
    }

    public static HeadConfig read(InputStream in, String source) {
        JsonNode root;
        try {
            root = MAPPER.readTree(in.readNBytes(MAX_BYTES + 1));
        } catch (JsonProcessingException e) {
            throw new PelaException(source + ": not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new PelaException(source + ": cannot read: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new PelaException(source + ": a head config must be a JSON object");
        }
        return parse((ObjectNode) root, source);
    }

    public static HeadConfig parse(String json, String source) {
        return read(new java.io.ByteArrayInputStream(json.getBytes(java.nio.charset.StandardCharsets.UTF_8)), source);
    }

    static HeadConfig parse(ObjectNode root, String source) {
        Fields f = new Fields(root, source);
        String type = f.text("type");
        return switch (type) {
            case UperNetConfig.TYPE -> upernet(f.only(UPERNET));
            case FcosConfig.TYPE -> fcos(f.only(FCOS));
            default -> throw f.error("type", "must be \"" + UperNetConfig.TYPE + "\" or \"" + FcosConfig.TYPE
                    + "\", got \"" + type + "\"");
        };
    }

    private static UperNetConfig upernet(Fields f) {
        List<Integer> idx = f.ascending("out_indices");
        List<Double> scales = f.numbers("neck_scales");
        if (scales.size() != idx.size() && idx.size() != 1) {
            throw f.error("neck_scales", "needs one scale per entry of out_indices (" + idx.size() + "), got "
                    + scales.size());
        }
        for (double s : scales) {
            if (!(s > 0)) {
                throw f.error("neck_scales", "scales must be positive, got " + s);
            }
        }
        List<Integer> pools = f.ints("pool_scales");
        for (int p : pools) {
            if (p < 1) {
                throw f.error("pool_scales", "scales must be positive, got " + p);
            }
        }
        int channels = f.positive("channels");
        int groups = f.positive("gn_groups");
        if (channels % groups != 0) {
            throw f.error("gn_groups", groups + " does not divide channels " + channels);
        }
        int classes = f.positive("num_classes");
        List<String> names = f.has("class_names") ? f.texts("class_names") : List.of();
        if (!names.isEmpty() && names.size() != classes) {
            throw f.error("class_names", "has " + names.size() + " names for " + classes + " classes");
        }
        return new UperNetConfig(f.positive("img_size"), idx, f.bool("final_norm"), f.positive("neck_channels"),
                scales, channels, pools, classes, groups, names);
    }

    private static FcosConfig fcos(Fields f) {
        List<Double> scales = f.numbers("sfp_scales");
        for (double s : scales) {
            if (!SFP_SCALES.contains(s)) {
                throw f.error("sfp_scales", "each scale must be 4, 2, 1 or 0.5 (ViTDet's levels), got " + s);
            }
        }
        List<List<Double>> ranges = f.ranges("regress_ranges");
        if (ranges.size() != scales.size()) {
            throw f.error("regress_ranges", "needs one [min, max] per level (" + scales.size() + "), got "
                    + ranges.size());
        }
        int channels = f.positive("channels");
        int groups = f.positive("gn_groups");
        if (channels % groups != 0) {
            throw f.error("gn_groups", groups + " does not divide channels " + channels);
        }
        int classes = f.positive("num_classes");
        List<Integer> ids = f.has("category_ids") ? f.ints("category_ids") : defaultIds(classes);
        if (ids.size() != classes || new HashSet<>(ids).size() != ids.size()) {
            throw f.error("category_ids", "needs " + classes + " distinct ids, got " + ids);
        }
        return new FcosConfig(f.positive("img_size"), f.nonNegative("out_index"), scales, channels,
                f.positive("stacked_convs"), classes, groups, ranges, f.positiveNumber("center_sample_radius"),
                f.fraction("focal_alpha"), f.nonNegativeNumber("focal_gamma"), f.fraction("score_thr"),
                f.positive("nms_pre"), f.fraction("nms_iou"), f.positive("max_per_img"), ids);
    }

    private static List<Integer> defaultIds(int classes) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 1; i <= classes; i++) {
            ids.add(i);
        }
        return ids;
    }

    public static String toJsonString(HeadConfig c) {
        try {
            return MAPPER.writeValueAsString(toJson(c)) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static ObjectNode toJson(HeadConfig c) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("type", c.type()).put("img_size", c.imgSize());
        if (c instanceof UperNetConfig u) {
            ints(n.putArray("out_indices"), u.outIndices());
            n.put("final_norm", u.finalNorm()).put("neck_channels", u.neckChannels());
            u.neckScales().forEach(n.putArray("neck_scales")::add);
            n.put("channels", u.channels());
            ints(n.putArray("pool_scales"), u.poolScales());
            n.put("num_classes", u.numClasses()).put("gn_groups", u.gnGroups());
            if (!u.classNames().isEmpty()) {
                u.classNames().forEach(n.putArray("class_names")::add);
            }
        } else if (c instanceof FcosConfig d) {
            n.put("out_index", d.outIndex());
            d.sfpScales().forEach(n.putArray("sfp_scales")::add);
            n.put("channels", d.channels()).put("stacked_convs", d.stackedConvs()).put("num_classes", d.numClasses())
                    .put("gn_groups", d.gnGroups());
            ArrayNode rr = n.putArray("regress_ranges");
            d.regressRanges().forEach(r -> r.forEach(rr.addArray()::add));
            n.put("center_sample_radius", d.centerRadius()).put("focal_alpha", d.focalAlpha())
                    .put("focal_gamma", d.focalGamma()).put("score_thr", d.scoreThreshold()).put("nms_pre", d.nmsPre())
                    .put("nms_iou", d.nmsIou()).put("max_per_img", d.maxPerImage());
            ints(n.putArray("category_ids"), d.categoryIds());
        }
        return n;
    }

    private static void ints(ArrayNode a, List<Integer> v) {
        v.forEach(a::add);
    }

    /** Typed access to the fields of one object, each error naming the source and the field. */
    private static final class Fields {
        private final ObjectNode root;
        private final String source;

        Fields(ObjectNode root, String source) {
            this.root = root;
            this.source = source;
        }

        Fields only(Set<String> allowed) {
            List<String> unknown = new ArrayList<>();
            for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!allowed.contains(k)) {
                    unknown.add(k);
                }
            }
            if (!unknown.isEmpty()) {
                throw new PelaException(source + ": unknown field(s) " + unknown + " for a " + root.get("type").asText()
                        + " head (allowed: " + new java.util.TreeSet<>(allowed) + ")");
            }
            return this;
        }

        PelaException error(String field, String problem) {
            return new PelaException(source + ": field '" + field + "' " + problem);
        }

        boolean has(String field) {
            return root.has(field);
        }

        private JsonNode get(String field) {
            JsonNode v = root.get(field);
            if (v == null || v.isNull()) {
                throw error(field, "is missing");
            }
            return v;
        }

        String text(String field) {
            JsonNode v = get(field);
            if (!v.isTextual()) {
                throw error(field, "must be a string, got " + v);
            }
            return v.asText();
        }

        boolean bool(String field) {
            JsonNode v = get(field);
            if (!v.isBoolean()) {
                throw error(field, "must be true or false, got " + v);
            }
            return v.booleanValue();
        }

        private int intOf(JsonNode v, String field) {
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                throw error(field, "must be an integer, got " + v);
            }
            return v.intValue();
        }

        private double numberOf(JsonNode v, String field) {
            if (!v.isNumber()) {
                throw error(field, "must be a number, got " + v);
            }
            return v.doubleValue();
        }

        int positive(String field) {
            int v = intOf(get(field), field);
            if (v < 1) {
                throw error(field, "must be a positive integer, got " + v);
            }
            return v;
        }

        int nonNegative(String field) {
            int v = intOf(get(field), field);
            if (v < 0) {
                throw error(field, "must be >= 0, got " + v);
            }
            return v;
        }

        double positiveNumber(String field) {
            double v = numberOf(get(field), field);
            if (!(v > 0)) {
                throw error(field, "must be > 0, got " + v);
            }
            return v;
        }

        double nonNegativeNumber(String field) {
            double v = numberOf(get(field), field);
            if (!(v >= 0)) {
                throw error(field, "must be >= 0, got " + v);
            }
            return v;
        }

        double fraction(String field) {
            double v = numberOf(get(field), field);
            if (!(v >= 0 && v <= 1)) {
                throw error(field, "must be between 0 and 1, got " + v);
            }
            return v;
        }

        private JsonNode array(String field) {
            JsonNode v = get(field);
            if (!v.isArray() || v.isEmpty()) {
                throw error(field, "must be a non-empty list, got " + v);
            }
            return v;
        }

        List<Integer> ints(String field) {
            List<Integer> out = new ArrayList<>();
            array(field).forEach(x -> out.add(intOf(x, field)));
            return out;
        }

        List<Integer> ascending(String field) {
            List<Integer> v = ints(field);
            for (int i = 1; i < v.size(); i++) {
                if (v.get(i) <= v.get(i - 1)) {
                    throw error(field, "must be strictly ascending, got " + v);
                }
            }
            return v;
        }

        List<Double> numbers(String field) {
            List<Double> out = new ArrayList<>();
            array(field).forEach(x -> out.add(numberOf(x, field)));
            return out;
        }

        List<String> texts(String field) {
            List<String> out = new ArrayList<>();
            array(field).forEach(x -> {
                if (!x.isTextual()) {
                    throw error(field, "must be a list of strings, got " + x);
                }
                out.add(x.asText());
            });
            return out;
        }

        List<List<Double>> ranges(String field) {
            List<List<Double>> out = new ArrayList<>();
            for (JsonNode r : array(field)) {
                if (!r.isArray() || r.size() != 2) {
                    throw error(field, "each range must be [min, max], got " + r);
                }
                double lo = numberOf(r.get(0), field);
                double hi = numberOf(r.get(1), field);
                if (!(hi > lo)) {
                    throw error(field, "range " + r + " has max <= min");
                }
                out.add(List.of(lo, hi));
            }
            return out;
        }
    }
}
