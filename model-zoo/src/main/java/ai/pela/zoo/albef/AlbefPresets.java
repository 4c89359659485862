package ai.pela.zoo.albef;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ALBEF architectures by name. {@code albef_base} is the released model (ViT-B/16 + BERT-base, 6 text and 6 fusion
 * layers, 256-d contrastive space) at 224 px; {@code albef_tiny} has the same structure at toy size (32 px images,
 * 64-wide, 2 + 2 BERT layers) with the real 30,522-token uncased vocabulary, for tests and the demo.
 */
public final class AlbefPresets {
    /** ALBEF's image normalisation (its dataset code uses CLIP's statistics, not ImageNet's). */
    public static final List<Double> MEAN = List.of(0.48145466, 0.4578275, 0.40821073);
    public static final List<Double> STD = List.of(0.26862954, 0.26130258, 0.27577711);

    private static final Map<String, AlbefConfig> PRESETS = new LinkedHashMap<>();

    static {
        add(new AlbefConfig("albef_base", vit(224, 16, 768, 12, 12), BertConfig.albefBase(), 256, 0.07, null));
        add(new AlbefConfig("albef_tiny", vit(32, 8, 64, 2, 4),
                new BertConfig(30522, 64, 4, 4, 256, 64, 2, 1e-12, 0, 2, 64), 32, 0.07, null));
    }

    private AlbefPresets() {
    }

    private static ModelConfig vit(int img, int patch, int dim, int depth, int heads) {
        return new ModelConfig("vit", img, patch, 3, dim, depth, heads, 4.0, 0, "token", true, true, null, false,
                MEAN, STD, null);
    }

    private static void add(AlbefConfig c) {
        PRESETS.put(c.architecture(), c.validate("preset " + c.architecture()));
    }

    public static boolean exists(String name) {
        return PRESETS.containsKey(name);
    }

    public static AlbefConfig get(String name) {
        AlbefConfig c = PRESETS.get(name);
        if (c == null) {
            throw new PelaException("unknown ALBEF preset '" + name + "'; known: " + String.join(", ", PRESETS.keySet()));
        }
        return c;
    }

    public static Iterable<String> names() {
        return PRESETS.keySet();
    }
}
